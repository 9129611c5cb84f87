package envoycompat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// EnvOldest names the oldest supported Envoy binary (the Makefile's
// ENVOY_OLDEST_VERSION, installed into .venv-oldest).
const EnvOldest = "CAUSEWAY_ENVOY_OLDEST"

const goldenDir = "../../testdata/translator"

// goldenCases lists the golden case directories.
func goldenCases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no golden cases under %s", goldenDir)
	}
	return dirs
}

// oldestEnvoy returns $CAUSEWAY_ENVOY_OLDEST, else the module's
// .venv-oldest/bin/envoy, or skips (fails under CAUSEWAY_REQUIRE_E2E=1).
func oldestEnvoy(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(EnvOldest)
	if bin == "" {
		bin, _ = filepath.Abs("../../.venv-oldest/bin/envoy")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		e2eutil.SkipOrFail(t, "the oldest supported Envoy is needed (set %s or run `make envoy-oldest`): %s is not an executable file", EnvOldest, bin)
	}
	return bin
}

// TestGoldenAcceptedBySupportedEnvoys runs every golden case's resources
// through `envoy --mode validate` on the newest and the oldest Envoy the
// README says Causeway supports.
func TestGoldenAcceptedBySupportedEnvoys(t *testing.T) {
	for _, v := range []struct {
		name string
		find func(*testing.T) string
	}{
		{"newest", func(t *testing.T) string { return e2eutil.RequireEnvoy(t) }},
		{"oldest", oldestEnvoy},
	} {
		t.Run(v.name, func(t *testing.T) {
			bin := v.find(t)
			version, err := Version(t.Context(), bin)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", version)
			dir := t.TempDir()
			for _, name := range goldenCases(t) {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					b, err := GoldenBootstrap(filepath.Join(goldenDir, name))
					if err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
					defer cancel()
					if err := Validate(ctx, bin, b, dir, name); err != nil {
						t.Errorf("Envoy rejects golden case %s: %v", name, err)
					}
				})
			}
		})
	}
}

// TestValidateRejects shows the check can fail: a golden case with one
// route made invalid (a regex RE2 cannot compile) must be rejected.
func TestValidateRejects(t *testing.T) {
	bin := e2eutil.RequireEnvoy(t)
	b, err := GoldenBootstrap(filepath.Join(goldenDir, "gateway-hostnames-intersection"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Validate(ctx, bin, b, t.TempDir(), "valid"); err != nil {
		t.Fatalf("the unchanged case must be accepted: %v", err)
	}
	f, hcm := firstHCM(t, b)
	hcm.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0].Match = &routev3.RouteMatch{
		PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "(unclosed"}},
	}
	a, err := anypb.New(hcm)
	if err != nil {
		t.Fatal(err)
	}
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
	if err := Validate(ctx, bin, b, t.TempDir(), "broken"); err == nil {
		t.Fatal("Envoy accepted a route whose regex does not compile")
	} else {
		t.Logf("rejected as expected: %v", err)
	}
}

// TestGoldenBootstrapShape checks the rewriting on one case: RDS inlined,
// one STATIC copy per load assignment, the ADS cluster present.
func TestGoldenBootstrapShape(t *testing.T) {
	dir := filepath.Join(goldenDir, "gateway-hostnames-intersection")
	b, err := GoldenBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	assignments, err := readList(filepath.Join(dir, "endpoints.yaml"), func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} })
	if err != nil {
		t.Fatal(err)
	}
	listeners := b.GetStaticResources().GetListeners()
	if len(listeners) == 0 {
		t.Fatal("no listeners")
	}
	for _, l := range listeners {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				if f.GetTypedConfig().MessageIs(&hcmv3.HttpConnectionManager{}) {
					hcm := &hcmv3.HttpConnectionManager{}
					if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
						t.Fatal(err)
					}
					if hcm.GetRds() != nil || hcm.GetRouteConfig() == nil {
						t.Errorf("listener %s: RDS not replaced by the route configuration", l.GetName())
					}
					if hcm.GetRouteConfig().GetValidateClusters().GetValue() {
						t.Errorf("listener %s: inline route validates clusters, which RDS would not", l.GetName())
					}
				}
			}
		}
	}
	var static, xds int
	for _, c := range b.GetStaticResources().GetClusters() {
		switch {
		case c.GetName() == xdsClusterName:
			xds++
		case strings.HasPrefix(c.GetName(), staticEndpointsPrefix) && c.GetType() == clusterv3.Cluster_STATIC:
			static++
		}
	}
	if xds != 1 {
		t.Errorf("%d ADS clusters, want 1", xds)
	}
	if static != len(assignments) || static == 0 {
		t.Errorf("%d STATIC copies carrying endpoints, want one per load assignment (%d)", static, len(assignments))
	}
	if b.GetDynamicResources().GetAdsConfig() == nil {
		t.Error("no ADS config for the resources' ads config sources")
	}
}

// firstHCM returns the first listener's first filter, an HTTP connection
// manager, and its decoded config.
func firstHCM(t *testing.T, b *bootstrapv3.Bootstrap) (*listenerv3.Filter, *hcmv3.HttpConnectionManager) {
	t.Helper()
	f := b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0]
	hcm := &hcmv3.HttpConnectionManager{}
	if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatalf("first filter is no HTTP connection manager: %v", err)
	}
	return f, hcm
}
