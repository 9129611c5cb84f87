// Command causeway-load measures Causeway at scale: it generates a world,
// starts `causeway serve` on it, connects ADS clients (half
// state-of-the-world, half delta) that ACK like Envoy, changes endpoints and
// measures the time until every client has ACKed the change, samples the
// server's memory (the largest world also with serve under GOMEMLIMIT),
// optionally soaks serve under sustained endpoint churn (--soak: memory
// and goroutines flat, every client at the final version; soak.go),
// optionally measures many workload clusters (--clusters-scale: twenty
// kube-apiservers on one etcd; clusters.go), and prints and writes the
// results (JSON and PNG; the table's form and medians in report.go and
// report_stats.go); per-phase durations go to stderr. It exits non-zero
// when the soak fails.
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
	rssInterval     time.Duration
	// serveGoMemLimit, if set, serves the largest scale a second time
	// with this GOMEMLIMIT.
	serveGoMemLimit string
	// deadline ends measuring more changes (each run keeps at least one).
	deadline time.Time
	soak     soakOptions
	// routeScale is the route run's HTTPRoute count (0: no route run),
	// routeChanges the single-route changes it measures.
	routeScale, routeChanges int
	clusters                 clustersOptions
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
	flag.DurationVar(&o.rssInterval, "rss-sample-interval", 100*time.Millisecond, "how often world-file runs sample serve's RSS, from its start to the end (initial sync included)")
	flag.StringVar(&o.serveGoMemLimit, "serve-gomemlimit", "", `also serve the largest scale with this GOMEMLIMIT (e.g. 400MiB) and report its RSS next to the unlimited one ("": off; --full: 400MiB)`)
	flag.IntVar(&o.routeScale, "route-scale", 10000, "HTTPRoutes in the route run (one Gateway listener, a Service of --eps endpoints per route; --clients RDS clients); 0: no route run")
	flag.IntVar(&o.routeChanges, "route-changes", 3, "single-route changes measured in the route run")
	flag.DurationVar(&o.soak.duration, "soak", 0, "soak for this long: serve a world to --soak-clients clients while making --soak-rate endpoint changes per second, then check every client holds the final world and serve's goroutines and memory stayed flat (0: no soak)")
	flag.IntVar(&o.soak.rate, "soak-rate", 100, "endpoint changes per second during the soak")
	flag.IntVar(&o.soak.clients, "soak-clients", 1000, "ADS clients during the soak (half state-of-the-world, half delta; at least 2)")
	flag.IntVar(&o.soak.vds, "soak-vds", 1000, "VirtualDestinations in the soak's world")
	flag.DurationVar(&o.soak.writeInterval, "soak-write-interval", 250*time.Millisecond, "how often the soak rewrites the world file, with --soak-rate × this many endpoint changes each")
	flag.DurationVar(&o.soak.sample, "soak-sample", 5*time.Second, "how often the soak samples serve's RSS, heap and goroutines")
	flag.DurationVar(&o.soak.warmup, "soak-warmup", 0, "start of the soak left out of slopes and the memory check (0: a tenth of --soak, 10 s to 1 min)")
	flag.DurationVar(&o.soak.finalTimeout, "soak-final-timeout", 2*time.Minute, "how long, after the soak's last change, every client may take to hold the final world")
	var clusterSteps string
	flag.BoolVar(&o.clusters.enabled, "clusters-scale", false, "many clusters: one etcd and --clusters-count kube-apiservers (own --etcd-prefix each) with --clusters-services Services × --clusters-eps endpoints, registered with one serve in steps; measures sync, serve's memory and CPU per cluster, API traffic, and convergence of EndpointSlice changes in random clusters to --clients clients")
	flag.IntVar(&o.clusters.count, "clusters-count", 20, "workload clusters in the --clusters-scale run")
	flag.IntVar(&o.clusters.services, "clusters-services", 500, "Services (and VirtualDestinations) per workload cluster in the --clusters-scale run")
	flag.IntVar(&o.clusters.eps, "clusters-eps", 10, "endpoints per Service in the --clusters-scale run")
	flag.StringVar(&clusterSteps, "clusters-steps", "1,5,10,20", "cluster counts at which serve is measured (ascending; the last is raised to --clusters-count)")
	flag.IntVar(&o.clusters.changes, "clusters-changes", 20, "EndpointSlice changes measured in the --clusters-scale run (random clusters)")
	flag.DurationVar(&o.clusters.changesBudget, "clusters-changes-budget", 3*time.Minute, "stop measuring --clusters-scale changes after this long (at least one is measured)")
	flag.IntVar(&o.clusters.widen, "clusters-widen", 2, "after the --clusters-scale steps, add --clusters-eps endpoints to every Service of this many clusters and remove them again, measuring serve's live heap per endpoint (0: skip)")
	flag.Parse()
	if o.full {
		scales, o.clients, o.kubeVDs = "1000,3000,10000", 1000, 1000
		if !flagSet("serve-gomemlimit") {
			o.serveGoMemLimit = fullGoMemLimit
		}
	}
	o.scales = parseCounts("--vds", scales)
	if o.rssInterval <= 0 {
		fmt.Fprintln(os.Stderr, "--rss-sample-interval: positive")
		os.Exit(2)
	}
	o.translateRoutes = parseCounts("--translate-routes", translateRoutes)
	if o.eps < 1 || o.eps > 64 {
		fmt.Fprintln(os.Stderr, "--eps: 1 to 64")
		os.Exit(2)
	}
	if o.clusters.enabled {
		steps, err := parseSteps(clusterSteps, o.clusters.count)
		switch {
		case err != nil:
			fmt.Fprintln(os.Stderr, "--clusters-steps:", err)
			os.Exit(2)
		case o.clusters.count < 1 || o.clusters.count > 99:
			fmt.Fprintln(os.Stderr, "--clusters-count: 1 to 99 (endpoint addresses 1<c>.x.y.z)")
			os.Exit(2)
		case o.clusters.services < 1 || o.clusters.eps < 1 || o.clusters.eps > 64 || o.clusters.changes < 1:
			fmt.Fprintln(os.Stderr, "--clusters-services, --clusters-changes: at least 1; --clusters-eps: 1 to 64")
			os.Exit(2)
		}
		o.clusters.steps = steps
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

// parseSteps reads ascending cluster counts; the last becomes count, and
// counts above it are dropped.
func parseSteps(s string, count int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("counts must ascend: %d after %d", n, out[len(out)-1])
		}
		if n < count {
			out = append(out, n)
		}
	}
	return append(out, count), nil
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
	if o.routeScale > 0 {
		t0 := time.Now()
		rr, err := runRoutes(ctx, o, o.routeScale)
		if err != nil {
			rr.Error = err.Error()
			fmt.Fprintln(os.Stderr, "route run:", err)
		}
		res.Routes.Run = &rr
		logPhase("route run", time.Since(t0))
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
	if o.clusters.enabled {
		t0 := time.Now()
		c, err := runClusters(ctx, o)
		logPhase("many clusters", time.Since(t0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "many clusters:", err)
			if c.Error == "" {
				c.Error = err.Error()
			}
		}
		res.ManyClusters = c
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

// parseCounts parses flag's comma-separated positive counts, or exits 2.
func parseCounts(flag, list string) []int {
	var out []int
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "%s: bad count %q\n", flag, s)
			os.Exit(2)
		}
		out = append(out, n)
	}
	return out
}
