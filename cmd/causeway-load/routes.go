package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// The route run: a world of n HTTPRoutes (two rules each, hostname
// r<i>.example.com, /a to Service s<i>, /b to Service s<i+1>) on one
// Gateway listener, n Services of eps endpoints, served to clients that
// subscribe to the listener's route configuration (RDS) and ACK like
// Envoy. Each change rewrites one route's second rule to a new path (a
// marker); a client has converged when it ACKs a route configuration
// holding the marker.

// routeResult is the route run's figures.
type routeResult struct {
	Routes      int     `json:"routes"`
	Clients     int     `json:"clients"`
	WorldBytes  int     `json:"world_bytes"`
	SyncSec     float64 `json:"initial_sync_seconds"`
	RouteConfig int     `json:"route_configuration_bytes"`
	Convergence dist    `json:"convergence"`
	Sotw        dist    `json:"convergence_sotw"`
	Delta       dist    `json:"convergence_delta"`
	// DebounceMS is the wait before serve acts on a write: the world
	// file's watch quiet period plus serve's --debounce-quiet.
	DebounceMS        float64   `json:"debounce_ms"`
	BeyondDebounceP99 float64   `json:"beyond_debounce_p99_ms"`
	PerChangeP99      []float64 `json:"per_change_p99_ms"`
	Seconds           float64   `json:"seconds"`
	// Reconnects are client streams that ended and were opened again
	// (FirstReconnect: why the first ended).
	Reconnects     int64  `json:"reconnects"`
	FirstReconnect string `json:"first_reconnect,omitempty"`
	Error          string `json:"error,omitempty"`
	// Profile is serve's CPU profile over the first changes' 10 s.
	Profile string `json:"profile,omitempty"`
}

// routeDebounce is the world-file watch's quiet period (discovery/file
// watchQuiet) plus serve's default --debounce-quiet: the wait before a
// written world reaches the classes.
const routeDebounce = 100*time.Millisecond + 50*time.Millisecond

const (
	routeGatewayPort = 8080
	routeConfigName  = "gateway_8080"
)

// routeMarker is change gen's path prefix: no marker is part of another,
// and the translator keeps it as is (no trailing slash to trim).
func routeMarker(gen int) string { return fmt.Sprintf("/b-g%d-x", gen) }

// generateRouteWorld renders the route run's world; changed maps route
// index to the marker generation of its second rule.
func generateRouteWorld(n, eps int, changed map[int]int) []byte {
	var b bytes.Buffer
	b.Grow(n * (450 + 25*eps))
	writeClusters(&b)
	b.WriteString(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"GatewayClass","metadata":{"name":"causeway"},"spec":{"controllerName":"causeway.dev/gateway-controller"}}` + "\n---\n")
	fmt.Fprintf(&b, `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"ingress","namespace":%q},"spec":{"gatewayClassName":"causeway","listeners":[{"name":"http","port":%d,"protocol":"HTTP"}]}}`+"\n---\n",
		vdNamespace, routeGatewayPort)
	for i := range n {
		fmt.Fprintf(&b, `{"apiVersion":"world.causeway.dev/v1alpha1","kind":"Service","metadata":{"name":"s%d","namespace":%q},"spec":{"cluster":%q,"ports":[{"port":80}],"endpoints":[`,
			i, vdNamespace, benchClusters[0])
		for e := range eps {
			if e > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"address":%q}`, endpointAddress(0, i, e))
		}
		b.WriteString("]}}\n---\n")
		second := "/b"
		if gen, ok := changed[i]; ok {
			second = routeMarker(gen)
		}
		fmt.Fprintf(&b, `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r%d","namespace":%q},"spec":{"parentRefs":[{"name":"ingress"}],"hostnames":["r%d.example.com"],"rules":[`+
			`{"matches":[{"path":{"type":"PathPrefix","value":"/a"}}],"backendRefs":[{"name":"s%d","port":80}]},`+
			`{"matches":[{"path":{"type":"PathPrefix","value":%q}}],"backendRefs":[{"name":"s%d","port":80}]}]}}`+"\n---\n",
			i, vdNamespace, i, i, second, (i+1)%n)
	}
	return b.Bytes()
}

// runRoutes serves a world of n HTTPRoutes to o.clients RDS clients and
// measures how long single-route changes take to be ACKed by every client.
func runRoutes(ctx context.Context, o options, n int) (r routeResult, err error) {
	start := time.Now()
	defer func() { r.Seconds = round2(time.Since(start).Seconds()) }()
	r = routeResult{Routes: n, Clients: o.clients, DebounceMS: float64(routeDebounce.Milliseconds())}
	name := fmt.Sprintf("%d routes", n)
	dir, err := os.MkdirTemp(o.out, fmt.Sprintf("routes-%d-", n))
	if err != nil {
		return r, err
	}
	defer func() {
		if err == nil && r.Error == "" {
			os.RemoveAll(dir)
		}
	}()
	changed := map[int]int{}
	world := generateRouteWorld(n, o.eps, changed)
	r.WorldBytes = len(world)
	path := filepath.Join(dir, "world.yaml")
	if err := writeAtomic(path, world); err != nil {
		return r, err
	}
	t0 := time.Now()
	p, err := startServe(o.bin, dir, o.pprof, "", "--world", path)
	if err != nil {
		return r, err
	}
	defer p.stop()
	logPhase(name+": serve ready", time.Since(t0))

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t1 := time.Now()
	f, err := connectRDS(cctx, p.xdsAddr, o.clients)
	if err != nil {
		return r, err
	}
	defer f.close()
	defer func() {
		r.Reconnects = f.reconnects.Load()
		if m := f.firstReconnect.Load(); m != nil {
			r.FirstReconnect = *m
		}
	}()
	if err := f.waitSynced(ctx, o.syncTimeout); err != nil {
		return r, fmt.Errorf("initial RDS sync: %w (serve log %s)", err, p.logPath)
	}
	r.SyncSec = round2(time.Since(t1).Seconds())
	r.RouteConfig = int(f.size.Load())
	logPhase(fmt.Sprintf("%s: initial RDS sync of %d clients", name, o.clients), time.Since(t1))

	// serve's CPU over the first changes: where a change's time goes.
	cpuPath := filepath.Join(o.out, fmt.Sprintf("serve-cpu-routes-%d.pprof", n))
	cpuDone := p.cpuProfile(ctx, 10, cpuPath)
	var all, sotw, delta []time.Duration
	for c := 0; c < o.routeChanges && (c == 0 || time.Now().Before(o.deadline)); c++ {
		i := (c*7919 + n/2) % n
		changed[i] = c + 1
		world := generateRouteWorld(n, o.eps, changed)
		ds, err := f.measure(ctx, int64(c+1), []byte(routeMarker(c+1)), o.convergeTimeout, func(mark func()) error {
			tmp := path + ".next"
			if err := os.WriteFile(tmp, world, 0o644); err != nil {
				return err
			}
			mark()
			return os.Rename(tmp, path)
		})
		if err != nil {
			r.Error = fmt.Sprintf("change %d: %v (serve log %s)", c+1, err, p.logPath)
			break
		}
		all = append(all, ds...)
		for k, d := range ds {
			if f.clients[k].delta {
				delta = append(delta, d)
			} else {
				sotw = append(sotw, d)
			}
		}
		r.PerChangeP99 = append(r.PerChangeP99, summarize(ds).P99)
	}
	logPhase(fmt.Sprintf("%s: %d route changes", name, len(r.PerChangeP99)), time.Since(t1))
	if err := <-cpuDone; err != nil {
		fmt.Fprintln(os.Stderr, "cpu profile:", err)
	} else if p.pprofAddr != "" {
		r.Profile = cpuPath
	}
	r.Convergence, r.Sotw, r.Delta = summarize(all), summarize(sotw), summarize(delta)
	if r.Convergence.N > 0 {
		r.BeyondDebounceP99 = round2(r.Convergence.P99 - r.DebounceMS)
	}
	return r, nil
}

// routeTarget is the route change being measured.
type routeTarget struct {
	gen    int64
	marker []byte
	start  time.Time
	acked  []atomic.Int64
	left   atomic.Int64
	done   chan struct{}
}

// measure arms a target, runs apply (the change) and waits until every
// client ACKed a route configuration holding the marker.
func (f *rdsFleet) measure(ctx context.Context, gen int64, marker []byte, timeout time.Duration, apply func(mark func()) error) ([]time.Duration, error) {
	t := &routeTarget{gen: gen, marker: marker, acked: make([]atomic.Int64, len(f.clients)), done: make(chan struct{})}
	t.left.Store(int64(len(f.clients)))
	if err := apply(func() { t.start = time.Now(); f.cur.Store(t) }); err != nil {
		return nil, err
	}
	return awaitAcks(ctx, t.done, f.errs, timeout, t.acked, &t.left, "did not get the route change")
}
