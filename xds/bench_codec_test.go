package xds

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// BenchmarkSotwACKBurst: a burst of state-of-the-world EDS ACKs right
// after a publication: `clients` requests, each naming all n load
// assignments (a list no request named before), received as gRPC does (in
// 16 KiB frame buffers) and decoded at once. Reports the largest heap
// during the burst above the heap before it (the received requests
// themselves excluded: gRPC holds them either way).
func BenchmarkSotwACKBurst(b *testing.B) {
	const clients = 500
	for _, n := range []int{10000} {
		b.Run(fmt.Sprintf("names=%d/clients=%d", n, clients), func(b *testing.B) {
			req := &discoveryv3.DiscoveryRequest{TypeUrl: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", VersionInfo: "v2", ResponseNonce: "3"}
			for i := range n {
				req.ResourceNames = append(req.ResourceNames, fmt.Sprintf("outbound|80||app-%d.mesh.internal", i))
			}
			wire, err := proto.Marshal(req)
			if err != nil {
				b.Fatal(err)
			}
			var peak float64
			for b.Loop() {
				c := newRequestCodec()
				frames := make([]mem.BufferSlice, clients)
				for i := range frames {
					for off := 0; off < len(wire); off += 16 << 10 {
						frames[i] = append(frames[i], mem.SliceBuffer(append([]byte(nil), wire[off:min(off+16<<10, len(wire))]...)))
					}
				}
				runtime.GC()
				before := heapObjects()
				var stop atomic.Bool
				done := make(chan float64)
				go func() {
					var p float64
					for !stop.Load() {
						p = max(p, heapObjects())
						time.Sleep(100 * time.Microsecond)
					}
					done <- p
				}()
				var wg sync.WaitGroup
				out := make([]*discoveryv3.DiscoveryRequest, clients)
				for i := range clients {
					wg.Go(func() {
						r := &discoveryv3.DiscoveryRequest{}
						if err := c.Unmarshal(frames[i], r); err != nil {
							b.Error(err)
						}
						out[i] = r
					})
				}
				wg.Wait()
				stop.Store(true)
				peak = max(peak, <-done-before)
				runtime.KeepAlive(frames)
				runtime.KeepAlive(out)
			}
			b.ReportMetric(peak/(1<<20), "peak-above-MiB")
		})
	}
}

// BenchmarkSotwACKDecode: one state-of-the-world EDS ACK naming n load
// assignments, a list decoded before (the steady case), received in 16 KiB
// frame buffers.
func BenchmarkSotwACKDecode(b *testing.B) {
	const n = 10000
	req := &discoveryv3.DiscoveryRequest{TypeUrl: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", VersionInfo: "v2", ResponseNonce: "3"}
	for i := range n {
		req.ResourceNames = append(req.ResourceNames, fmt.Sprintf("outbound|80||app-%d.mesh.internal", i))
	}
	wire, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	var frames mem.BufferSlice
	for off := 0; off < len(wire); off += 16 << 10 {
		frames = append(frames, mem.SliceBuffer(wire[off:min(off+16<<10, len(wire))]))
	}
	c := newRequestCodec()
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if err := c.Unmarshal(frames, &discoveryv3.DiscoveryRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}
