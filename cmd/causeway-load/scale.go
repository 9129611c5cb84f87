package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// scaleResult is one world-file run.
type scaleResult struct {
	VDs        int     `json:"virtual_destinations"`
	Endpoints  int     `json:"endpoints"`
	Clients    int     `json:"clients"`
	WorldBytes int     `json:"world_bytes"`
	StartupSec float64 `json:"startup_seconds"`
	SyncSec    float64 `json:"initial_sync_seconds"`
	// RSSMiB is the largest RSS sampled after the initial sync and after
	// each change; SyncRSSMiB the one after the initial sync alone.
	RSSMiB     float64 `json:"rss_mib"`
	SyncRSSMiB float64 `json:"rss_after_sync_mib"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// RSS summarizes RSSSamples, serve's RSS sampled every
	// --rss-sample-interval from its start (world load and initial sync
	// included) to the end of the run.
	RSS         rssSummary  `json:"rss_sampled"`
	RSSSamples  []rssSample `json:"rss_samples,omitempty"`
	Convergence dist        `json:"convergence"`
	// Sotw and Delta split Convergence by protocol.
	Sotw  dist `json:"convergence_sotw"`
	Delta dist `json:"convergence_delta"`
	// PerChange is each change's p99, for medians across changes.
	PerChangeP99 []float64 `json:"per_change_p99_ms"`
	Samples      []float64 `json:"-"`
	Profiles     []string  `json:"profiles,omitempty"`
	// Limited is the same world served again with GOMEMLIMIT set (the
	// largest scale, --serve-gomemlimit); the figures above have no limit.
	Limited *limitedRun `json:"gomemlimit_run,omitempty"`
	// Error says why the run stopped early (the figures so far stand).
	Error string `json:"error,omitempty"`
}

// limitedRun is a world-file run with serve under GOMEMLIMIT: the Go
// runtime collects harder near the limit, trading CPU for RSS.
type limitedRun struct {
	GoMemLimit string  `json:"gomemlimit"`
	RSSMiB     float64 `json:"rss_mib"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// MaxSampleMiB is the largest RSS sample (see scaleResult.RSS).
	MaxSampleMiB float64 `json:"max_sample_mib"`
	SyncSec      float64 `json:"initial_sync_seconds"`
	Convergence  dist    `json:"convergence"`
	Error        string  `json:"error,omitempty"`
}

func limited(s scaleResult, goMemLimit string) *limitedRun {
	return &limitedRun{GoMemLimit: goMemLimit, RSSMiB: s.RSSMiB, PeakRSSMiB: s.PeakRSSMiB, MaxSampleMiB: s.RSS.MaxMiB, SyncSec: s.SyncSec, Convergence: s.Convergence, Error: s.Error}
}

// runWorldScale serves a generated world of n VirtualDestinations to
// o.clients clients and measures memory and convergence of endpoint
// changes made by rewriting the world file. goMemLimit is serve's
// GOMEMLIMIT ("" for none).
func runWorldScale(ctx context.Context, o options, n int, profile bool, goMemLimit string) (r scaleResult, err error) {
	name := fmt.Sprintf("%d VDs", n)
	if goMemLimit != "" {
		name += ", GOMEMLIMIT=" + goMemLimit
	}
	r = scaleResult{VDs: n, Endpoints: n * len(benchClusters) * o.eps, Clients: o.clients}
	dir, err := os.MkdirTemp(o.out, fmt.Sprintf("world-%d-", n))
	if err != nil {
		return r, err
	}
	// Kept (with serve's log) when something went wrong.
	defer func() {
		if err == nil && r.Error == "" {
			os.RemoveAll(dir)
		}
	}()
	spec := worldSpec{vds: n, eps: o.eps, notReady: map[int]bool{}}
	world := generateWorld(spec)
	r.WorldBytes = len(world)
	path := filepath.Join(dir, "world.yaml")
	if err := writeAtomic(path, world); err != nil {
		return r, err
	}
	t0 := time.Now()
	p, err := launchServe(o.bin, dir, profile, goMemLimit, "--world", path)
	if err != nil {
		return r, err
	}
	defer p.stop()
	sampler := startRSSSampler(p.pid(), o.rssInterval)
	defer func() {
		r.RSSSamples = sampler.finish()
		r.RSS = summarizeRSS(r.RSSSamples, o.rssInterval)
	}()
	if err := p.waitReady(); err != nil {
		return r, err
	}
	sampler.setPhase("sync")
	r.StartupSec = round2(time.Since(t0).Seconds())
	logPhase(name+": serve ready", time.Since(t0))

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t1 := time.Now()
	f, err := connect(cctx, p.xdsAddr, o.clients)
	if err != nil {
		return r, err
	}
	defer f.close()
	if err := f.waitSynced(ctx, o.syncTimeout); err != nil {
		logPhase(name+": initial sync (failed)", time.Since(t1))
		r.RSSMiB, _ = procStatus(p.pid(), "VmRSS")
		r.PeakRSSMiB, _ = procStatus(p.pid(), "VmHWM")
		return r, fmt.Errorf("initial sync: %w (serve log %s)", err, p.logPath)
	}
	r.SyncSec = round2(time.Since(t1).Seconds())
	logPhase(fmt.Sprintf("%s: initial sync of %d clients", name, o.clients), time.Since(t1))
	if r.RSSMiB, err = procStatus(p.pid(), "VmRSS"); err != nil {
		return r, err
	}
	r.SyncRSSMiB = round2(r.RSSMiB)
	sampler.setPhase("changes")

	var cpuDone <-chan error
	if profile && p.pprofAddr != "" {
		cpuPath := filepath.Join(o.out, fmt.Sprintf("serve-cpu-%d.pprof", n))
		cpuDone = p.cpuProfile(ctx, 10, cpuPath)
		r.Profiles = append(r.Profiles, cpuPath)
	}
	var all, sotw, delta []time.Duration
	t2 := time.Now()
	for c := 0; c < o.changes && (c == 0 || time.Now().Before(o.deadline)); c++ {
		i := (c * 7919) % n // spread over the world
		spec.notReady[i] = true
		world := generateWorld(spec)
		ds, err := f.measure(ctx, int64(c+1), edsName(i), endpointAddress(0, i, 0), o.convergeTimeout, func(mark func()) error {
			tmp := path + ".next"
			if err := os.WriteFile(tmp, world, 0o644); err != nil {
				return err
			}
			mark()
			return os.Rename(tmp, path)
		})
		if err != nil {
			r.Error = fmt.Sprintf("change %d: %v (serve log %s)", c+1, err, p.logPath)
			fmt.Fprintln(os.Stderr, r.Error)
			break
		}
		all = append(all, ds...)
		s, d := f.split(ds)
		sotw, delta = append(sotw, s...), append(delta, d...)
		r.PerChangeP99 = append(r.PerChangeP99, summarize(ds).P99)
		if rss, err := procStatus(p.pid(), "VmRSS"); err == nil && rss > r.RSSMiB {
			r.RSSMiB = rss
		}
	}
	logPhase(fmt.Sprintf("%s: %d changes", name, len(r.PerChangeP99)), time.Since(t2))
	r.Convergence, r.Sotw, r.Delta = summarize(all), summarize(sotw), summarize(delta)
	for _, d := range all {
		r.Samples = append(r.Samples, float64(d)/float64(time.Millisecond))
	}
	r.PeakRSSMiB, _ = procStatus(p.pid(), "VmHWM")
	r.RSSMiB, r.PeakRSSMiB = round2(r.RSSMiB), round2(r.PeakRSSMiB)
	if cpuDone != nil {
		if err := <-cpuDone; err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
		}
		heap := filepath.Join(o.out, fmt.Sprintf("serve-heap-%d.pprof", n))
		if err := fetch(ctx, "http://"+p.pprofAddr+"/debug/pprof/heap", heap); err != nil {
			fmt.Fprintln(os.Stderr, "heap profile:", err)
		} else {
			r.Profiles = append(r.Profiles, heap)
		}
	}
	return r, nil
}
