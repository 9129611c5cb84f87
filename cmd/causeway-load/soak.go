package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The soak: a generated world served to many tracked clients while
// endpoints of the first cluster turn ready and not ready at a steady
// rate, for a long time. The world file is rewritten (atomically) every
// write interval with the changes due by then (rate × interval when on
// time), rather than once per change: serve coalesces rewrites closer
// than its file-watch debounce anyway. serve's RSS, heap
// and goroutines are sampled throughout; afterwards every client must hold
// the final world, and goroutines and memory must not have grown.

// soakOptions are the soak's flags.
type soakOptions struct {
	duration      time.Duration
	rate          int
	clients       int
	vds           int
	writeInterval time.Duration
	sample        time.Duration
	warmup        time.Duration
	// finalTimeout bounds the wait for every client to hold the final
	// world after the last change.
	finalTimeout time.Duration
}

type soakResult struct {
	VDs         int     `json:"virtual_destinations"`
	Endpoints   int     `json:"endpoints"`
	Clients     int     `json:"clients"`
	DurationSec float64 `json:"duration_seconds"`
	// TargetRate is the endpoint changes per second asked for, made as
	// ChangesPerWrite changes per world-file write every WriteIntervalMS;
	// a late write makes the changes due since the last one (at most
	// MaxChangesPerWrite), so Changes is TargetRate × the duration.
	TargetRate         int     `json:"target_changes_per_second"`
	ChangesPerWrite    int     `json:"changes_per_write"`
	MaxChangesPerWrite int     `json:"max_changes_per_write"`
	WriteIntervalMS    float64 `json:"write_interval_ms"`
	Changes            int     `json:"endpoint_changes"`
	Writes             int     `json:"world_writes"`
	Rate               float64 `json:"changes_per_second"`
	// Reloads are serve's successful world loads during the soak
	// (causeway_world_reloads_total): at most one per write.
	Reloads        int     `json:"serve_reloads"`
	ReloadFailures int     `json:"serve_reload_failures"`
	SyncSec        float64 `json:"initial_sync_seconds"`
	WarmupSec      float64 `json:"warmup_seconds"`
	SampleSec      float64 `json:"sample_interval_seconds"`
	// Goroutines are serve's (go_goroutines); the post-sync and end
	// figures are the least of three samples a second apart, once quiet.
	GoroutinesPostSync int      `json:"goroutines_after_sync"`
	GoroutinesEnd      int      `json:"goroutines_end"`
	GoroutineBound     int      `json:"goroutines_bound"`
	Goroutines         flatness `json:"goroutines"`
	RSS                flatness `json:"rss_mib"`
	Heap               flatness `json:"heap_inuse_mib"`
	// AtFinal clients hold the final world FinalSec after the last write.
	AtFinal         int     `json:"clients_at_final_version"`
	FinalSec        float64 `json:"final_convergence_seconds"`
	FinalCDSVersion string  `json:"final_cds_version,omitempty"`
	FinalEDSVersion string  `json:"final_eds_version,omitempty"`
	// Reconnects are clients' new streams after one ended (not a failure
	// by itself: Envoy reconnects too), FirstReconnectCause why the first
	// ended.
	Reconnects          int      `json:"client_reconnects"`
	FirstReconnectCause string   `json:"first_reconnect_cause,omitempty"`
	ClientErrors        int      `json:"client_errors"`
	FirstClientError    string   `json:"first_client_error,omitempty"`
	Failures            []string `json:"failures,omitempty"`
	Error               string   `json:"error,omitempty"`
	// Kept is the directory of the world and serve's log, kept when the
	// soak failed.
	Kept    string       `json:"kept_dir,omitempty"`
	Samples []soakSample `json:"samples"`
}

// soakSample is one sample of serve, T seconds after the changes began.
type soakSample struct {
	T          float64 `json:"t"`
	RSSMiB     float64 `json:"rss_mib"`
	HeapMiB    float64 `json:"heap_inuse_mib"`
	Goroutines int     `json:"goroutines"`
}

// soakWarmup is the warm-up left out of slopes: the flag, or a tenth of
// the soak between 10 s and a minute.
func soakWarmup(s soakOptions) time.Duration {
	if s.warmup > 0 {
		return s.warmup
	}
	return min(max(s.duration/10, 10*time.Second), time.Minute)
}

// writePlan is how rate changes per second are made: perWrite changes
// every interval (about the interval asked for).
func writePlan(rate int, interval time.Duration) (perWrite int, every time.Duration) {
	perWrite = max(1, int(math.Round(float64(rate)*interval.Seconds())))
	return perWrite, time.Duration(float64(perWrite) / float64(rate) * float64(time.Second))
}

// changeOrder returns the k-th endpoint the soak toggles: a walk over all
// vds × eps endpoints of the first cluster with a stride coprime to their
// number, so consecutive changes (those of one write) are distinct
// endpoints spread over the world.
func changeOrder(vds, eps int) func(k int) endpointRef {
	total := vds * eps
	stride := 7919
	for gcd(stride, total) != 1 {
		stride++
	}
	return func(k int) endpointRef {
		j := (k % total) * (stride % total) % total
		return endpointRef{vd: j / eps, ep: j % eps}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// runSoak runs the soak; its failures are in the result's Failures.
func runSoak(ctx context.Context, o options) (r *soakResult) {
	s := o.soak
	r = &soakResult{VDs: s.vds, Endpoints: s.vds * len(benchClusters) * o.eps, Clients: s.clients, TargetRate: s.rate,
		WarmupSec: soakWarmup(s).Seconds(), SampleSec: s.sample.Seconds()}
	perWrite, every := writePlan(s.rate, s.writeInterval)
	r.ChangesPerWrite, r.WriteIntervalMS = perWrite, float64(every)/float64(time.Millisecond)
	if err := soak(ctx, o, r); err != nil {
		r.Error = err.Error()
		fmt.Fprintln(os.Stderr, "soak:", err)
	}
	// A soak that stopped early fails for that reason alone.
	r.Failures = soakFailures(r)
	if r.Error != "" {
		r.Failures = []string{r.Error}
	}
	return r
}

// soak serves the world, connects the clients, churns and checks; r has
// the soak's options filled in and gets its figures.
func soak(ctx context.Context, o options, r *soakResult) (err error) {
	s := o.soak
	dir, err := os.MkdirTemp(o.out, "soak-")
	if err != nil {
		return err
	}
	defer func() {
		if err == nil && len(soakFailures(r)) == 0 {
			os.RemoveAll(dir)
		} else {
			r.Kept = dir
		}
	}()
	world := newWorldRenderer(worldSpec{vds: s.vds, eps: o.eps, down: map[endpointRef]bool{}})
	path := filepath.Join(dir, "world.yaml")
	if err := writeAtomic(path, world.render()); err != nil {
		return err
	}
	t0 := time.Now()
	p, err := startServe(o.bin, dir, false, "", "--world", path)
	if err != nil {
		return err
	}
	defer p.stop()
	logPhase("soak: serve ready", time.Since(t0))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t1 := time.Now()
	f, err := connectFleet(cctx, p.xdsAddr, s.clients, true)
	if err != nil {
		return err
	}
	defer f.close()
	if err := f.waitSynced(ctx, o.syncTimeout); err != nil {
		return fmt.Errorf("initial sync: %w (serve log %s)", err, p.logPath)
	}
	r.SyncSec = round2(time.Since(t1).Seconds())
	logPhase(fmt.Sprintf("soak: initial sync of %d clients", s.clients), time.Since(t1))
	if r.GoroutinesPostSync, err = quietGoroutines(ctx, p.metricsAddr); err != nil {
		return err
	}
	before, err := scrape(ctx, p.metricsAddr)
	if err != nil {
		return err
	}

	start := time.Now()
	stopSampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		r.Samples = sampleUntil(ctx, p, start, s.sample, stopSampling)
	}()
	lastWrite, werr := churn(ctx, s, world, path, start, r)
	close(stopSampling)
	<-sampled
	d := time.Since(start)
	r.DurationSec = round2(d.Seconds())
	r.Rate = round2(float64(r.Changes) / d.Seconds())
	logPhase(fmt.Sprintf("soak: %d endpoint changes in %d writes", r.Changes, r.Writes), d)
	if werr != nil {
		return werr
	}

	t2 := time.Now()
	r.AtFinal, r.FinalCDSVersion, r.FinalEDSVersion = f.waitFinal(ctx, world.spec, s.finalTimeout)
	r.FinalSec = round2(time.Since(lastWrite).Seconds())
	logPhase(fmt.Sprintf("soak: %d of %d clients at the final version", r.AtFinal, s.clients), time.Since(t2))
	if r.GoroutinesEnd, err = quietGoroutines(ctx, p.metricsAddr); err != nil {
		return err
	}
	r.GoroutineBound = goroutineBound(r.GoroutinesPostSync)
	if after, err := scrape(ctx, p.metricsAddr); err == nil {
		r.Reloads = int(after[reloadsOK] - before[reloadsOK])
		r.ReloadFailures = int(after[reloadsFailed] - before[reloadsFailed])
	}
	r.Reconnects = int(f.reconnects.Load())
	if c := f.firstReconnect.Load(); c != nil {
		r.FirstReconnectCause = *c
	}
	for drained := false; !drained; {
		select {
		case err := <-f.errs:
			if r.ClientErrors == 0 {
				r.FirstClientError = err.Error()
			}
			r.ClientErrors++
		default:
			drained = true
		}
	}
	var ts, rss, heap, gs []float64
	for _, x := range r.Samples {
		ts, rss, heap, gs = append(ts, x.T), append(rss, x.RSSMiB), append(heap, x.HeapMiB), append(gs, float64(x.Goroutines))
	}
	r.RSS, r.Heap, r.Goroutines = flatnessOf(ts, rss, r.WarmupSec), flatnessOf(ts, heap, r.WarmupSec), flatnessOf(ts, gs, r.WarmupSec)
	return nil
}

// churn makes s.rate × s.duration endpoint changes from start, writing the
// world file every r.WriteIntervalMS with the changes due by then: a write
// that comes late (the tool shares the CPU with serve) makes more of them.
// It counts changes and writes in r and returns the time of the last write.
func churn(ctx context.Context, s soakOptions, world *worldRenderer, path string, start time.Time, r *soakResult) (time.Time, error) {
	next := changeOrder(world.spec.vds, world.spec.eps)
	total := int(math.Round(float64(s.rate) * s.duration.Seconds()))
	tick := time.NewTicker(time.Duration(r.WriteIntervalMS * float64(time.Millisecond)))
	defer tick.Stop()
	lastWrite := start
	for r.Changes < total {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return lastWrite, ctx.Err()
		}
		due := total
		if el := time.Since(start); el < s.duration {
			due = int(float64(s.rate) * el.Seconds())
		}
		// At most every endpoint once per write.
		n := min(due-r.Changes, world.spec.vds*world.spec.eps)
		if n <= 0 {
			continue
		}
		for range n {
			world.toggle(next(r.Changes))
			r.Changes++
		}
		if err := writeAtomic(path, world.render()); err != nil {
			return lastWrite, err
		}
		lastWrite = time.Now()
		r.Writes++
		r.MaxChangesPerWrite = max(r.MaxChangesPerWrite, n)
	}
	return lastWrite, nil
}

// rows are the soak's lines of the table.
func (s *soakResult) rows() []row {
	name := fmt.Sprintf("soak: %s, %d streams, %d endpoint changes/s, %d VDs", time.Duration(s.DurationSec*float64(time.Second)).Round(time.Second), s.Clients, s.TargetRate, s.VDs)
	churn := fmt.Sprintf("%d endpoint changes in %.0f s (%.1f/s) as %d world-file writes (planned: %d changes every %.0f ms; most in one write %d); serve reloaded %d times (%d failed), coalescing writes",
		s.Changes, s.DurationSec, s.Rate, s.Writes, s.ChangesPerWrite, s.WriteIntervalMS, s.MaxChangesPerWrite, s.Reloads, s.ReloadFailures)
	if s.Error != "" {
		return []row{{name + ": FAILED", "", strings.Join(strings.Fields(s.Error), " ") + " (world and serve log in " + s.Kept + ")"}}
	}
	final := fmt.Sprintf("%d of %d clients at the final version %.1f s after the last write", s.AtFinal, s.Clients, s.FinalSec)
	if s.Reconnects > 0 {
		final += fmt.Sprintf("; %d reconnects (first after: %s)", s.Reconnects, s.FirstReconnectCause)
	}
	if s.ClientErrors > 0 {
		final += fmt.Sprintf("; %d client streams failed", s.ClientErrors)
	}
	rows := []row{
		{name + ": changes", fmt.Sprintf("%d endpoint changes/s, sustained", s.TargetRate), churn},
		{name + ": clients", "every client at the final version", final},
		{name + ": goroutines", fmt.Sprintf("after ≤ after sync + max(%.0f%%, %d)", goroutineGrowth*100, goroutineSlack),
			fmt.Sprintf("after sync %d, after the soak %d (bound %d); during: start %.0f, end %.0f, max %.0f, slope %+.1f/min",
				s.GoroutinesPostSync, s.GoroutinesEnd, s.GoroutineBound, s.Goroutines.Start, s.Goroutines.End, s.Goroutines.Max, s.Goroutines.SlopePerMin)},
		{name + ": memory", fmt.Sprintf("RSS median of the last third ≤ first third's + %.0f%% (after %.0f s warm-up)", rssGrowth*100, s.WarmupSec),
			fmt.Sprintf("RSS start %.0f, end %.0f, max %.0f MiB, slope %+.2f MiB/min, %s; heap in use start %.0f, end %.0f, max %.0f MiB, slope %+.2f MiB/min (%d samples every %.0f s)",
				s.RSS.Start, s.RSS.End, s.RSS.Max, s.RSS.SlopePerMin, thirds(s.RSS), s.Heap.Start, s.Heap.End, s.Heap.Max, s.Heap.SlopePerMin, len(s.Samples), s.SampleSec)},
	}
	if len(s.Failures) > 0 {
		rows = append(rows, row{name + ": FAILED", "", strings.Join(s.Failures, "; ") + " (world and serve log in " + s.Kept + ")"})
	}
	return rows
}

func thirds(f flatness) string {
	if f.N < minThirdsSamples {
		return fmt.Sprintf("thirds not compared (%d samples after the warm-up, fewer than %d)", f.N, minThirdsSamples)
	}
	return fmt.Sprintf("median of first → last third %.0f → %.0f MiB (%+.1f%%)", f.FirstThird, f.LastThird, f.Growth*100)
}
