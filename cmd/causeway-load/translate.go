package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// The offline figures: `causeway translate --kube` of plain manifests, N
// HTTPRoutes with 2 rules each routing to N Services with 10 endpoints
// each (Service and EndpointSlice manifests) and one Gateway, timed as a
// whole process (YAML output to a file included) with its peak RSS and
// CPU time, at each --translate-routes size; the largest against the
// smallest gives the growth ratio.

// translateResult is the offline translate run: one result per size, in
// --translate-routes order.
type translateResult struct {
	Sizes []translateSizeResult `json:"sizes"`
	// WallRatio is the largest size's median wall time over the smallest's.
	WallRatio float64 `json:"wall_ratio,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type translateSizeResult struct {
	Routes     int       `json:"http_routes"`
	Services   int       `json:"services"`
	Runs       int       `json:"runs"`
	WallSec    float64   `json:"wall_seconds"`
	PeakRSSMiB float64   `json:"peak_rss_mib"`
	AllWall    []float64 `json:"all_wall_seconds"`
	// CPUSec is the median user+system CPU time, steadier than wall time
	// on a busy machine.
	CPUSec   float64 `json:"cpu_seconds"`
	OutBytes int64   `json:"output_bytes"`
}

// translateRuns is how often each size runs (the median is reported).
const translateRuns = 3

func translateManifests(routes, eps int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"GatewayClass","metadata":{"name":"causeway"},"spec":{"controllerName":"causeway.dev/gateway-controller"}}` + "\n---\n")
	b.WriteString(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"http","namespace":"bench","annotations":{"causeway.dev/cluster":"c1"}},"spec":{"gatewayClassName":"causeway","listeners":[{"name":"http","protocol":"HTTP","port":8080,"allowedRoutes":{"namespaces":{"from":"All"}}}]}}` + "\n---\n")
	for i := 0; i < routes; i++ {
		n := vdName(i)
		fmt.Fprintf(&b, `{"apiVersion":"v1","kind":"Service","metadata":{"name":%q,"namespace":"bench"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}`+"\n---\n", n)
		fmt.Fprintf(&b, `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":%q,"namespace":"bench","labels":{"kubernetes.io/service-name":%q}},"addressType":"IPv4","ports":[{"name":"http","port":80,"protocol":"TCP"}],"endpoints":[`, n, n)
		for e := 0; e < eps; e++ {
			if e > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"addresses":[%q],"conditions":{"ready":true}}`, endpointAddress(0, i, e))
		}
		b.WriteString("]}\n---\n")
		fmt.Fprintf(&b, `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":%q,"namespace":"bench"},"spec":{"parentRefs":[{"name":"http"}],"hostnames":["%s.example.com"],"rules":[`+
			`{"matches":[{"path":{"type":"PathPrefix","value":"/a"}}],"backendRefs":[{"name":%q,"port":80}]},`+
			`{"matches":[{"path":{"type":"PathPrefix","value":"/b"},"headers":[{"name":"x-canary","value":"1"}]}],"backendRefs":[{"name":%q,"port":80}]}]}}`+"\n---\n", n, n, n, n)
	}
	return b.Bytes()
}

func runTranslate(ctx context.Context, o options) *translateResult {
	f := &translateResult{}
	for _, n := range o.translateRoutes {
		r, err := translateSize(ctx, o, n)
		if err != nil {
			f.Error = fmt.Sprintf("%d routes: %v", n, err)
			break
		}
		f.Sizes = append(f.Sizes, *r)
	}
	if len(f.Sizes) >= 2 && f.Sizes[0].WallSec > 0 {
		f.WallRatio = round2(f.Sizes[len(f.Sizes)-1].WallSec / f.Sizes[0].WallSec)
	}
	return f
}

// translateSize generates the manifests for n routes and translates them
// translateRuns times.
func translateSize(ctx context.Context, o options, n int) (*translateSizeResult, error) {
	dir, err := os.MkdirTemp(o.out, "translate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "c1.yaml")
	if err := os.WriteFile(in, translateManifests(n, o.eps), 0o644); err != nil {
		return nil, err
	}
	r := &translateSizeResult{Routes: n, Services: n, Runs: translateRuns}
	var cpu []float64
	for i := 0; i < r.Runs; i++ {
		outPath := filepath.Join(dir, "out.yaml")
		out, err := os.Create(outPath)
		if err != nil {
			return nil, err
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, o.bin, "translate", "--kube", "c1="+in, "--role", "gateway", "--cluster", "c1", "--gateway", "bench/http")
		cmd.Stdout, cmd.Stderr = out, &stderr
		t0 := time.Now()
		err = cmd.Run()
		wall := time.Since(t0).Seconds()
		out.Close()
		if err != nil {
			return nil, fmt.Errorf("causeway translate: %w\n%s", err, lastLines(stderr.String(), 10))
		}
		r.AllWall = append(r.AllWall, round2(wall))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSSMiB = max(r.PeakRSSMiB, round2(float64(ru.Maxrss)/1024))
		}
		cpu = append(cpu, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds())
		if fi, err := os.Stat(outPath); err == nil {
			r.OutBytes = fi.Size()
		}
	}
	r.WallSec = median(r.AllWall)
	r.CPUSec = round2(median(cpu))
	return r, nil
}

func lastLines(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
