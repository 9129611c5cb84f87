package main

import (
	"os"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/discovery/kube"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

func TestTranslateRows(t *testing.T) {
	cases := []struct {
		name string
		r    *results
		want []string // a substring of each row's figure + measured, in order
	}{
		{"not run", &results{}, []string{"not measured (--translate=false)"}},
		{"failed", &results{Translate: &translateResult{Error: "3000 routes: exit status 2"}}, []string{"not measured: 3000 routes: exit status 2"}},
		{"two sizes", &results{Translate: &translateResult{WallRatio: 9.5, Sizes: []translateSizeResult{
			{Routes: 3000, Services: 3000, Runs: 3, WallSec: 0.4, AllWall: []float64{0.4, 0.5, 0.39}, CPUSec: 0.6, PeakRSSMiB: 120, OutBytes: 9 << 20},
			{Routes: 30000, Services: 30000, Runs: 3, WallSec: 3.8, AllWall: []float64{3.8, 3.9, 3.7}, CPUSec: 6, PeakRSSMiB: 700, OutBytes: 90 << 20},
		}}}, []string{
			"3k HTTPRoutes × 2 rules → 3k Services × 10 endpoints, one Gateway 0.40 s wall (median of 3: 0.40, 0.50, 0.39 s), 0.60 s CPU, 120 MiB peak RSS, 9 MiB output",
			"30k HTTPRoutes × 2 rules → 30k Services × 10 endpoints, one Gateway 3.80 s wall (median of 3: 3.80, 3.90, 3.70 s), 6.00 s CPU, 700 MiB peak RSS, 90 MiB output",
			"growth: 30k / 3k routes 9.5× wall (3.80 / 0.40 s), 10.0× CPU, for 10× the input",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := translateRows(tc.r)
			if len(rows) != len(tc.want) {
				t.Fatalf("%d rows, want %d: %v", len(rows), len(tc.want), rows)
			}
			for i, w := range tc.want {
				if got := rows[i].figure + " " + rows[i].measured; !strings.Contains(got, w) {
					t.Errorf("row %d: %q\nwant it to contain %q", i, got, w)
				}
			}
			if tc.name == "two sizes" && rows[1].target != translateTarget {
				t.Errorf("30k row's target %q, want %q", rows[1].target, translateTarget)
			}
		})
	}
}

// TestTranslateManifestsInput checks the generated input is what the
// figures claim: n HTTPRoutes of two rules on one Gateway, n Services of
// eps ready endpoints, all loaded without a problem and translated to one
// virtual host per route.
func TestTranslateManifestsInput(t *testing.T) {
	const n, eps = 50, 10
	path := t.TempDir() + "/c1.yaml"
	if err := os.WriteFile(path, translateManifests(n, eps), 0o644); err != nil {
		t.Fatal(err)
	}
	set := kube.NewManifestSet()
	if err := set.Add("c1", path); err != nil {
		t.Fatal(err)
	}
	w, invalid := kube.BuildWorld([]kube.ClusterInfo{{Name: "c1"}}, set.Workloads, &set.Config)
	if len(invalid) > 0 {
		t.Fatal(invalid)
	}
	if len(w.HTTPRoutes) != n || len(w.Services) != n || len(w.Gateways) != 1 {
		t.Fatalf("%d routes, %d services, %d gateways; want %d, %d, 1", len(w.HTTPRoutes), len(w.Services), len(w.Gateways), n, n)
	}
	for _, r := range w.HTTPRoutes {
		if len(r.Spec.Rules) != 2 {
			t.Fatalf("route %s has %d rules", r.Name, len(r.Spec.Rules))
		}
	}
	for _, s := range w.Services {
		if len(s.Endpoints) != eps {
			t.Fatalf("service %s has %d endpoints", s.Name, len(s.Endpoints))
		}
	}
	snap := model.NewSnapshot(w).WithControllerName(model.DefaultControllerName)
	res := translator.Translate(snap, model.Proxy{Role: model.RoleGateway, Cluster: "c1", Gateway: "bench/http"}, translator.Credentials{})
	if len(res.Diagnostics) > 0 {
		t.Fatal(res.Diagnostics)
	}
	vhosts := 0
	for _, rc := range res.Routes {
		vhosts += len(rc.VirtualHosts)
	}
	if vhosts != n {
		t.Fatalf("%d virtual hosts, want %d", vhosts, n)
	}
}
