package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
)

// implementation is what the report says about Causeway. The version is
// the checkout's `git describe`, so a report names the code it tested.
func implementation() confv1.Implementation {
	version := "dev"
	if out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		if v := strings.TrimSpace(string(out)); v != "" {
			version = v
		}
	}
	return confv1.Implementation{
		Organization: "causeway-dev",
		Project:      "causeway",
		URL:          "https://github.com/causeway-dev/causeway",
		Version:      version,
		Contact:      []string{"https://github.com/causeway-dev/causeway/issues"},
	}
}

// timeouts are the suite's own defaults. Runs on two shared cores pass
// with them with room to spare (the slowest wait, a new Gateway's Envoy
// Pod becoming ready, takes about a second against GatewayMustHaveAddress
// 180 s and MaxTimeToConsistency 30 s), so none is relaxed; change a field
// here, saying why, only when a run shows the need.
func timeouts() config.TimeoutConfig {
	return config.DefaultTimeoutConfig()
}

// recorder keeps each suite test's outcome, from the suite's Hook, which
// runs when a test (parallel ones included) has finished.
type recorder struct {
	skips skipList
	mu    sync.Mutex
	res   map[string]string
}

func newRecorder(skips skipList) *recorder {
	return &recorder{skips: skips, res: map[string]string{}}
}

func (r *recorder) hook(t *testing.T, test suite.ConformanceTest, _ *suite.ConformanceTestSuite) {
	res := "PASS"
	switch {
	case t.Failed():
		res = "FAIL"
	case t.Skipped():
		res = "SKIP"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res[test.ShortName] = res
}

// table lists every test that ran or that skip.yaml skips, in the suite's
// order, then counts the tests not run because a feature they need is not
// claimed.
func (r *recorder) table(all []suite.ConformanceTest, claimed []features.FeatureName) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	counts := map[string]int{}
	var unclaimed []string
	for _, test := range all {
		res, ran := r.res[test.ShortName]
		reason := r.skips.Reason(test.ShortName)
		switch {
		case !ran:
			continue // not selected (a single test was chosen)
		case res == "SKIP" && reason != "":
			res = "SKIP (skip.yaml: " + reason + ")"
			counts["skipped by skip.yaml"]++
		case res == "SKIP" && !hasAll(claimed, test.Features):
			unclaimed = append(unclaimed, test.ShortName)
			continue
		default:
			counts[res]++
		}
		fmt.Fprintf(&b, "  %-60s %s\n", test.ShortName, res)
	}
	fmt.Fprintf(&b, "  passed %d, failed %d, skipped by skip.yaml %d, other skips %d; %d tests need features Causeway does not claim",
		counts["PASS"], counts["FAIL"], counts["skipped by skip.yaml"], counts["SKIP"], len(unclaimed))
	return b.String()
}

// hasAll reports whether claimed has every feature the test needs; the
// profile's core features count as claimed, as the suite counts them.
func hasAll(claimed []features.FeatureName, need []features.FeatureName) bool {
	for _, f := range need {
		if !slices.Contains(claimed, f) && !suite.GatewayHTTPConformanceProfile.CoreFeatures.Has(f) {
			return false
		}
	}
	return true
}

// writeReport writes the suite's ConformanceReport to $CAUSEWAY_CONFORMANCE_REPORT,
// else to a temporary file, and prints where it went and each profile's
// summary.
func writeReport(t *testing.T, cs *suite.ConformanceTestSuite) {
	t.Helper()
	report, err := cs.Report()
	if err != nil {
		t.Fatalf("conformance report: %v", err)
	}
	data, err := yaml.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	path := os.Getenv(envReport)
	if path == "" {
		f, err := os.CreateTemp("", "causeway-conformance-report-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		path = f.Name()
		f.Close()
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range report.ProfileReports {
		ext := ""
		if p.Extended != nil {
			ext = fmt.Sprintf("; extended %s (%d passed, %d failed, %d skipped)",
				p.Extended.Result, p.Extended.Statistics.Passed, p.Extended.Statistics.Failed, p.Extended.Statistics.Skipped)
		}
		t.Logf("profile %s: core %s (%d passed, %d failed, %d skipped)%s",
			p.Name, p.Core.Result, p.Core.Statistics.Passed, p.Core.Statistics.Failed, p.Core.Statistics.Skipped, ext)
	}
	t.Logf("conformance report written to %s", path)
}
