package xds

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
)

// BenchmarkClassBuildPeakHeap: the heap while a new class is built
// (translation, encoding, validation) from a world of n VirtualDestinations,
// sampled every 200µs: the largest heap (live and not yet collected
// objects, what RSS follows), the largest live heap a collection found,
// and both above the heap before the build (the world and the server).
func BenchmarkClassBuildPeakHeap(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			store := &model.Store{}
			store.Publish(model.NewSnapshot(benchWorldSpec(n, 10)))
			authority, err := ca.LoadOrCreate(b.TempDir(), "causeway.local")
			if err != nil {
				b.Fatal(err)
			}
			var peak, live, before float64
			for b.Loop() {
				s, err := NewServer(Options{Store: store, CA: authority, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				before = heapObjects()
				var stop atomic.Bool
				done := make(chan [2]float64)
				go func() {
					var p, l float64
					for !stop.Load() {
						p, l = max(p, heapObjects()), max(l, liveHeap())
						time.Sleep(200 * time.Microsecond)
					}
					done <- [2]float64{p, l}
				}()
				addClass(b, s, benchProxy)
				stop.Store(true)
				r := <-done
				peak, live = max(peak, r[0]), max(live, r[1])
			}
			b.ReportMetric(peak/(1<<20), "peak-heap-MiB")
			b.ReportMetric((peak-before)/(1<<20), "peak-above-world-MiB")
			b.ReportMetric((live-before)/(1<<20), "max-live-above-world-MiB")
		})
	}
}

var heapSamples = []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}

func heapObjects() float64 {
	s := []rtmetrics.Sample{heapSamples[0]}
	rtmetrics.Read(s)
	return float64(s[0].Value.Uint64())
}

func liveHeap() float64 {
	s := []rtmetrics.Sample{heapSamples[1]}
	rtmetrics.Read(s)
	return float64(s[0].Value.Uint64())
}
