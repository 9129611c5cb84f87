package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// seedClusters fills the management cluster (VirtualDestinations, the
// control plane's namespace) and every workload cluster (Services and
// EndpointSlices), a few workers per apiserver.
func seedClusters(ctx context.Context, env *kubeenv.Env, co clustersOptions) error {
	mgmt := env.Cluster("mgmt")
	dyn, err := seedManagement(ctx, mgmt)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: clustersNamespace}}
	if _, err := kubernetes.NewForConfigOrDie(mgmt.Config).CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("management: namespace %s: %w", clustersNamespace, err)
	}
	jobs := []func(i int) error{func(i int) error { return createVD(ctx, dyn, i) }}
	for c := 0; c < co.count; c++ {
		cs, err := seedNamespace(ctx, env.Cluster(clusterName(c)))
		if err != nil {
			return err
		}
		jobs = append(jobs, func(i int) error { return createWorkload(ctx, cs, c, i, co.eps) })
	}
	return runJobs(jobs, co.services, 4)
}

// traffic is what an apiserver sent so far, in bytes: LIST response bodies
// and objects of watch events (its own metrics, so its in-process clients
// count too; the load tool takes differences around what it measures).
type traffic struct{ list, watch float64 }

func apiserverTraffic(ctx context.Context, cs kubernetes.Interface) (traffic, error) {
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return traffic{}, err
	}
	m, err := parseMetrics(bufio.NewScanner(bytes.NewReader(body)))
	if err != nil {
		return traffic{}, err
	}
	return trafficOf(m), nil
}

// trafficOf sums apiserver_response_sizes_sum over LIST requests and
// apiserver_watch_events_sizes_sum over every kind.
func trafficOf(m map[string]float64) traffic {
	var t traffic
	for k, v := range m {
		switch {
		case strings.HasPrefix(k, "apiserver_response_sizes_sum{") && strings.Contains(k, `verb="LIST"`):
			t.list += v
		case strings.HasPrefix(k, "apiserver_watch_events_sizes_sum{"):
			t.watch += v
		}
	}
	return t
}

// procCPU is a process's user plus system CPU time in seconds
// (/proc/<pid>/stat, fields 14 and 15, in clock ticks of 1/100 s as on
// every Linux the tool runs on).
func procCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(data))
}

func parseStatCPU(stat string) (float64, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat %q: no command", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command, want at least 13", len(f))
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc stat: utime %q stime %q", f[11], f[12])
	}
	const ticks = 100
	return (u + s) / ticks, nil
}
