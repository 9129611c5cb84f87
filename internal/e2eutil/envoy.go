package e2eutil

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// sortedNames keeps messages about several Envoys in a stable order.
func sortedNames(envoys map[string]*envoyrun.Envoy) []string {
	names := make([]string, 0, len(envoys))
	for name := range envoys {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// CheckNoRejectedUpdates fails t when an Envoy NACKed anything (a
// *.update_rejected counter above 0), or when no *.update_success counter
// is above 0, which would mean the check is not reading real xDS stats.
func CheckNoRejectedUpdates(t testing.TB, envoys map[string]*envoyrun.Envoy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range sortedNames(envoys) {
		stats, err := envoys[name].Stats(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var rejected []string
		var successes uint64
		for k, v := range stats {
			if strings.HasSuffix(k, ".update_rejected") && v > 0 {
				rejected = append(rejected, fmt.Sprintf("%s=%d", k, v))
			}
			if strings.HasSuffix(k, ".update_success") {
				successes += v
			}
		}
		sort.Strings(rejected)
		if len(rejected) > 0 {
			t.Errorf("%s rejected updates: %s", name, strings.Join(rejected, ", "))
		}
		if successes == 0 {
			t.Errorf("%s: no *.update_success counter above 0 among %d stats: not reading real xDS stats", name, len(stats))
		}
		t.Logf("%s: %d successful updates, %d rejected counters > 0", name, successes, len(rejected))
	}
}

// DumpEnvoys is for a cleanup that runs while the Envoys still run: when t
// failed it logs each Envoy's log tail and outbound /clusters lines, and
// with CAUSEWAY_E2E_ARTIFACTS set (pass or fail) it keeps each one's log,
// config dump (with EDS) and /clusters.
func DumpEnvoys(t testing.TB, envoys map[string]*envoyrun.Envoy) {
	artifacts := ArtifactsDir(t) != ""
	if !t.Failed() && !artifacts {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range sortedNames(envoys) {
		e := envoys[name]
		clusters, clustersErr := e.Admin(ctx, "/clusters")
		if t.Failed() {
			t.Logf("--- %s (pid %d) log tail:\n%s", name, e.Pid(), Indent(e.LogTail(25)))
			if clustersErr == nil {
				t.Logf("--- %s /clusters (outbound):\n%s", name, Indent(GrepLines(string(clusters), "outbound|")))
			}
		}
		if artifacts {
			CopyToArtifacts(t, e.LogPath(), name+".log")
			if dump, err := e.Admin(ctx, "/config_dump?include_eds"); err == nil {
				WriteArtifact(t, name+".config_dump.json", dump)
			}
			if clustersErr == nil {
				WriteArtifact(t, name+".clusters.txt", clusters)
			}
		}
	}
}
