// Command causeway-load measures Causeway at scale: it generates a world,
// starts `causeway serve` on it, connects ADS clients (half
// state-of-the-world, half delta) that ACK like Envoy, changes endpoints and
// measures the time until every client has ACKed the change, samples the
// server's memory (the largest world also with serve under GOMEMLIMIT),
// optionally soaks serve under sustained endpoint churn (--soak: memory
// and goroutines flat, every client at the final version; soak.go), and
// prints and writes the results (JSON and PNG); per-phase durations go to
// stderr. It exits non-zero when the soak fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin, out        string
	scales          []int
	eps, clients    int
	changes         int
	full            bool
	pprof           bool
	kube            bool
	kubeVDs         int
	goBench         bool
	goBenchFile     string
	translate       bool
	translateRoutes []int
	convergeTimeout time.Duration
	budget          time.Duration
	syncTimeout     time.Duration
	// serveGoMemLimit, if set, serves the largest scale a second time
	// with this GOMEMLIMIT.
	serveGoMemLimit string
	// deadline ends measuring more changes (each run keeps at least one).
	deadline time.Time
	soak     soakOptions
}

func main() {
	o := options{}
	var scales string
	flag.StringVar(&o.bin, "causeway-bin", "bin/causeway", "causeway binary")
	flag.StringVar(&o.out, "out", ".cache/bench", "directory for results.json, results.png, profiles and logs")
	flag.StringVar(&scales, "vds", "100,1000", "comma-separated VirtualDestination counts (memory against scale; the last is the largest case)")
	flag.IntVar(&o.eps, "eps", 10, "endpoints per Service (one Service per VirtualDestination in each of 3 clusters)")
	flag.IntVar(&o.clients, "clients", 100, "ADS clients (half state-of-the-world, half delta)")
	flag.IntVar(&o.changes, "changes", 5, "endpoint changes measured per scale")
	flag.BoolVar(&o.full, "full", false, "the issue's scale: --vds 1000,3000,10000 --clients 1000 --kube-vds 1000")
	flag.BoolVar(&o.pprof, "pprof", true, "capture CPU and heap profiles of serve for the largest case")
	flag.BoolVar(&o.kube, "kube", true, "measure convergence from a real kube-apiserver (needs CAUSEWAY_KUBE_BIN_DIR)")
	flag.IntVar(&o.kubeVDs, "kube-vds", 100, "VirtualDestinations in the kube-apiserver world")
	flag.BoolVar(&o.goBench, "go-bench", false, "run the translator and xds go benchmarks and put their figures in the table")
	flag.StringVar(&o.goBenchFile, "go-bench-output", "", "read `go test -bench` output from this file (what make bench ran) instead of running the benchmarks")
	flag.BoolVar(&o.translate, "translate", true, "measure offline `causeway translate` of generated Gateway API manifests (--translate-routes)")
	var translateRoutes string
	flag.StringVar(&translateRoutes, "translate-routes", "3000,30000", "comma-separated HTTPRoute counts for offline translate (each with as many Services; the last against the first gives the growth ratio)")
	flag.DurationVar(&o.convergeTimeout, "converge-timeout", 60*time.Second, "how long one change may take to reach every client")
	flag.DurationVar(&o.budget, "budget", 0, "stop measuring further changes after this long overall (0: no limit; each run still measures one)")
	flag.DurationVar(&o.syncTimeout, "sync-timeout", 3*time.Minute, "how long every client may take to receive the first full configuration")
	flag.StringVar(&o.serveGoMemLimit, "serve-gomemlimit", "", `also serve the largest scale with this GOMEMLIMIT (e.g. 400MiB) and report its RSS next to the unlimited one ("": off; --full: 400MiB)`)
	flag.DurationVar(&o.soak.duration, "soak", 0, "soak for this long: serve a world to --soak-clients clients while making --soak-rate endpoint changes per second, then check every client holds the final world and serve's goroutines and memory stayed flat (0: no soak)")
	flag.IntVar(&o.soak.rate, "soak-rate", 100, "endpoint changes per second during the soak")
	flag.IntVar(&o.soak.clients, "soak-clients", 1000, "ADS clients during the soak (half state-of-the-world, half delta; at least 2)")
	flag.IntVar(&o.soak.vds, "soak-vds", 1000, "VirtualDestinations in the soak's world")
	flag.DurationVar(&o.soak.writeInterval, "soak-write-interval", 250*time.Millisecond, "how often the soak rewrites the world file, with --soak-rate × this many endpoint changes each")
	flag.DurationVar(&o.soak.sample, "soak-sample", 5*time.Second, "how often the soak samples serve's RSS, heap and goroutines")
	flag.DurationVar(&o.soak.warmup, "soak-warmup", 0, "start of the soak left out of slopes and the memory check (0: a tenth of --soak, 10 s to 1 min)")
	flag.DurationVar(&o.soak.finalTimeout, "soak-final-timeout", 2*time.Minute, "how long, after the soak's last change, every client may take to hold the final world")
	flag.Parse()
	if o.full {
		scales, o.clients, o.kubeVDs = "1000,3000,10000", 1000, 1000
		if !flagSet("serve-gomemlimit") {
			o.serveGoMemLimit = fullGoMemLimit
		}
	}
	for _, s := range strings.Split(scales, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "--vds: bad count %q\n", s)
			os.Exit(2)
		}
		o.scales = append(o.scales, n)
	}
	for _, s := range strings.Split(translateRoutes, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "--translate-routes: bad count %q\n", s)
			os.Exit(2)
		}
		o.translateRoutes = append(o.translateRoutes, n)
	}
	if o.eps < 1 || o.eps > 64 {
		fmt.Fprintln(os.Stderr, "--eps: 1 to 64")
		os.Exit(2)
	}
	if o.soak.duration > 0 {
		switch {
		case o.soak.clients < 2:
			fmt.Fprintln(os.Stderr, "--soak-clients: at least 2 (one per protocol)")
			os.Exit(2)
		case o.soak.vds < 1:
			fmt.Fprintln(os.Stderr, "--soak-vds: at least 1")
			os.Exit(2)
		case o.soak.rate < 1:
			fmt.Fprintln(os.Stderr, "--soak-rate: at least 1")
			os.Exit(2)
		case o.soak.writeInterval <= 0 || o.soak.sample <= 0 || o.soak.finalTimeout <= 0:
			fmt.Fprintln(os.Stderr, "--soak-write-interval, --soak-sample, --soak-final-timeout: positive")
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "causeway-load:", err)
		os.Exit(1)
	}
}

// fullGoMemLimit is --full's --serve-gomemlimit.
const fullGoMemLimit = "400MiB"

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	o.deadline = start.Add(100 * 365 * 24 * time.Hour)
	if o.budget > 0 {
		o.deadline = start.Add(o.budget)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	o.out = out
	if o.bin, err = filepath.Abs(o.bin); err != nil {
		return err
	}
	res := &results{Started: start.UTC().Format(time.RFC3339), Clients: o.clients, EndpointsPerService: o.eps, Clusters: len(benchClusters)}
	switch {
	case o.goBenchFile != "":
		data, err := os.ReadFile(o.goBenchFile)
		if err != nil {
			return err
		}
		res.GoBench = parseBench(data)
	case o.goBench:
		t := time.Now()
		res.GoBench, err = runGoBenchmarks(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go benchmarks:", err)
		}
		logPhase("go benchmarks", time.Since(t))
	}
	// Offline translate first: a child's peak RSS (rusage) starts from this
	// process's RSS at exec (os/exec shares the address space until then),
	// so it is measured while the tool is still small.
	if o.translate {
		t0 := time.Now()
		res.Translate = runTranslate(ctx, o)
		if res.Translate.Error != "" {
			fmt.Fprintln(os.Stderr, "offline translate:", res.Translate.Error)
		}
		logPhase("offline translate", time.Since(t0))
	}
	for i, n := range o.scales {
		largest := i == len(o.scales)-1
		s := worldScale(ctx, o, n, largest && o.pprof, "")
		if largest && o.serveGoMemLimit != "" {
			if time.Now().Before(o.deadline) {
				s.Limited = limited(worldScale(ctx, o, n, false, o.serveGoMemLimit), o.serveGoMemLimit)
			} else {
				s.Limited = &limitedRun{GoMemLimit: o.serveGoMemLimit, Error: "skipped: --budget spent"}
			}
		}
		res.Scales = append(res.Scales, s)
	}
	if o.kube {
		t0 := time.Now()
		k, err := runKube(ctx, o)
		logPhase("kube-apiserver world", time.Since(t0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "kube-apiserver convergence:", err)
			res.KubeError = err.Error()
		}
		res.Kube = k
	}
	if o.soak.duration > 0 {
		t0 := time.Now()
		res.Soak = runSoak(ctx, o)
		logPhase("soak", time.Since(t0))
	}
	res.Seconds = round2(time.Since(start).Seconds())
	logPhase("total", time.Since(start))
	if err := res.write(o.out, os.Stdout); err != nil {
		return err
	}
	if s := res.Soak; s != nil && len(s.Failures) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(s.Failures, "; "))
	}
	return nil
}

// worldScale runs one world-file scale and logs its outcome.
func worldScale(ctx context.Context, o options, n int, profile bool, goMemLimit string) scaleResult {
	t := time.Now()
	s, err := runWorldScale(ctx, o, n, profile, goMemLimit)
	if err != nil {
		s.Error = err.Error()
		fmt.Fprintf(os.Stderr, "%d VDs: %v\n", n, err)
	}
	limit := "no limit"
	if goMemLimit != "" {
		limit = "GOMEMLIMIT=" + goMemLimit
	}
	fmt.Fprintf(os.Stderr, "%d VDs (%s): RSS %.0f MiB, convergence %+v\n", n, limit, s.RSSMiB, s.Convergence)
	logPhase(fmt.Sprintf("world %d VDs (%s)", n, limit), time.Since(t))
	return s
}
