package e2e

import (
	"net"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/discovery/file"
)

// TestPolicyWorldFileParses keeps the policy world valid and in step with
// policyBackends without Envoy: a typo would otherwise show up only as a
// confusing traffic failure.
func TestPolicyWorldFileParses(t *testing.T) {
	// Every backend as "cluster/service/address/version-label", the same
	// from the backend list and from the world file.
	var want []string
	for _, b := range policyBackends {
		host, _, err := net.SplitHostPort(b.Address)
		if err != nil {
			t.Fatal(err)
		}
		version := ""
		if b.Service == "reviews" {
			version = b.Version // only reviews has version labels (its subsets)
		}
		want = append(want, b.Cluster+"/"+b.Service+"/"+host+"/"+version)
	}
	sort.Strings(want)

	for _, p := range []policyParams{
		{Cluster1ProductsReady: true, Conflict: true},
		{Cluster1ProductsReady: false, Conflict: true},
		{Cluster1ProductsReady: true, Conflict: false},
	} {
		snap, err := file.Parse("world.yaml", renderPolicyWorld(p))
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		var got []string
		for _, svc := range snap.Services() {
			for _, ep := range svc.Endpoints {
				got = append(got, svc.Cluster+"/"+svc.Name+"/"+ep.Address+"/"+ep.Labels["version"])
				wantReady := !(svc.Name == "products" && svc.Cluster == "cluster-1") || p.Cluster1ProductsReady
				if ep.Ready != wantReady {
					t.Errorf("%+v: %s/%s endpoint %s ready=%v, want %v", p, svc.Cluster, svc.Name, ep.Address, ep.Ready, wantReady)
				}
			}
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%+v: world endpoints differ from policyBackends (-backends +world):\n%s", p, diff)
		}

		vds := map[string]bool{}
		for _, vd := range snap.VirtualDestinations() {
			vds[vd.Name] = true
		}
		if len(vds) != 8+boolInt(p.Conflict) || vds["aaa-usurper"] != p.Conflict {
			t.Errorf("%+v: VirtualDestinations %v", p, vds)
		}
		if n, m := len(snap.OutlierDetectionPolicies()), len(snap.FailoverPolicies()); n != 1 || m != 1 {
			t.Errorf("%+v: %d OutlierDetectionPolicies and %d FailoverPolicies, want 1 each", p, n, m)
		}
		if od := snap.OutlierDetectionPolicies(); len(od) == 1 {
			c := &od[0].Spec.Config
			if c.ConsecutiveErrorsOrDefault() != outlierConsecutiveErrors ||
				c.IntervalOrDefault().Seconds() != outlierIntervalSeconds ||
				c.BaseEjectionTimeOrDefault().Seconds() != outlierBaseEjectionSecs {
				t.Errorf("%+v: outlier config %+v does not say what the test expects", p, c)
			}
		}
		if len(snap.HTTPRoutes()) != 1 || len(snap.HTTPRoutes()[0].Spec.Rules) != 7 {
			t.Errorf("%+v: want one HTTPRoute with 7 rules", p)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
