package kube

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// randomObjects is a small world whose objects a test replaces at random,
// as informers do: an update is a new object, never a modified one.
type randomObjects struct {
	r         *rand.Rand
	infos     []ClusterInfo
	workloads map[string]*WorkloadObjects
	config    *ConfigObjects
}

func (ro *randomObjects) pick(n int) string { return fmt.Sprintf("s%d", ro.r.IntN(n)) }

func (ro *randomObjects) randomService(name string) *corev1.Service {
	s := service("ns", name, map[string]string{"app": name, "v": ro.pick(2)}, servicePort("http", 80, intstr.FromInt32(int32(8080+ro.r.IntN(2)))))
	switch ro.r.IntN(8) {
	case 0:
		s.Spec.Type = corev1.ServiceTypeExternalName
	case 1:
		s.Labels[EastWestGatewayLabel] = "true"
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: fmt.Sprintf("192.0.2.%d", ro.r.IntN(3))}}
	}
	return s
}

func (ro *randomObjects) randomSlice(name string) *discoveryv1.EndpointSlice {
	svc := ro.pick(6)
	var eps []discoveryv1.Endpoint
	for range ro.r.IntN(4) {
		e := endpoint(fmt.Sprintf("10.0.0.%d", ro.r.IntN(8)), onNode(fmt.Sprintf("node-%d", ro.r.IntN(3))),
			ofPod("ns", ro.pick(5)), conditions(ptr.To(ro.r.IntN(3) > 0), nil, nil))
		if ro.r.IntN(3) == 0 {
			e.Zone = ptr.To(ro.pick(2))
		}
		eps = append(eps, e)
	}
	return slice("ns", name, svc, httpPort, eps...)
}

func (ro *randomObjects) randomPod(name string) *corev1.Pod {
	return pod("ns", name, map[string]string{"version": ro.pick(3)})
}

func (ro *randomObjects) randomNode(name string) *corev1.Node {
	return node(name, map[string]string{corev1.LabelTopologyZone: ro.pick(3)})
}

// put replaces the object named like obj in list, adds it, or (one time
// in four) removes it.
func put[T metav1.Object](r *rand.Rand, list []T, obj T) []T {
	out := make([]T, 0, len(list)+1)
	for _, o := range list {
		if o.GetName() != obj.GetName() {
			out = append(out, o)
		}
	}
	if r.IntN(4) > 0 {
		out = append(out, obj)
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// change makes one random change: an object of a cluster, a
// VirtualDestination, or a cluster's staleness.
func (ro *randomObjects) change() {
	c := ro.infos[ro.r.IntN(len(ro.infos))].Name
	objs := *ro.workloads[c]
	switch ro.r.IntN(7) {
	case 0:
		objs.Services = put(ro.r, objs.Services, ro.randomService(ro.pick(6)))
	case 1, 2:
		objs.EndpointSlices = put(ro.r, objs.EndpointSlices, ro.randomSlice(ro.pick(8)))
	case 3:
		objs.Pods = put(ro.r, objs.Pods, ro.randomPod(ro.pick(5)))
	case 4:
		objs.Nodes = put(ro.r, objs.Nodes, ro.randomNode(fmt.Sprintf("node-%d", ro.r.IntN(3))))
	case 5:
		hosts := []string{ro.pick(3) + ".mesh"}
		if ro.r.IntN(5) == 0 {
			hosts = nil // invalid: reported
		}
		vd := virtualDestination("ns", ro.pick(3), func(s *v1alpha1.VirtualDestinationSpec) { s.Hosts = hosts })
		cfg := *ro.config
		cfg.VirtualDestinations = put(ro.r, cfg.VirtualDestinations, vd)
		sortByKey(cfg.VirtualDestinations)
		ro.config = &cfg
	case 6:
		i := ro.r.IntN(len(ro.infos))
		infos := append([]ClusterInfo(nil), ro.infos...)
		infos[i].Stale = !infos[i].Stale
		ro.infos = infos
	}
	ro.workloads[c] = &objs
}

// The incremental build makes the world and errors BuildWorld makes of the
// same objects, and says the world changed whenever it did.
func TestWorldCacheMatchesBuildWorld(t *testing.T) {
	for seed := range uint64(20) {
		ro := &randomObjects{
			r:         rand.New(rand.NewPCG(seed, 1)),
			infos:     []ClusterInfo{cluster1, {Name: "cluster-2", Locality: model.Locality{Region: "west"}}},
			workloads: map[string]*WorkloadObjects{"cluster-1": {}, "cluster-2": {}},
			config:    &ConfigObjects{},
		}
		var (
			wc   worldCache
			last model.World
		)
		for step := range 300 {
			if step > 0 {
				ro.change()
			}
			want, wantErrs := BuildWorld(ro.infos, ro.workloads, ro.config)
			got, gotErrs, changed := wc.build(ro.infos, ro.workloads, ro.config)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("seed %d step %d: world differs from BuildWorld's (-want +got):\n%s", seed, step, diff)
			}
			if diff := cmp.Diff(errorStrings(wantErrs), errorStrings(gotErrs)); diff != "" {
				t.Fatalf("seed %d step %d: errors differ (-want +got):\n%s", seed, step, diff)
			}
			sameSnapshots(t, model.NewSnapshot(want), wc.snapshot(got))
			if step == 0 && !changed {
				t.Fatal("the first build must report a change")
			}
			if !changed && !reflect.DeepEqual(want, last) {
				t.Fatalf("seed %d step %d: the world changed but the build said it did not", seed, step)
			}
			last = want
		}
	}
}

// sameSnapshots fails when got reads differently from want through the
// snapshots' accessors or their endpoint diff.
func sameSnapshots(t *testing.T, want, got *model.Snapshot) {
	t.Helper()
	if diff := cmp.Diff(want.Clusters(), got.Clusters()); diff != "" {
		t.Fatalf("snapshot clusters differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Services(), got.Services()); diff != "" {
		t.Fatalf("snapshot services differ (-want +got):\n%s", diff)
	}
	for _, svc := range want.Services() {
		if diff := cmp.Diff(want.Service(svc.Key()), got.Service(svc.Key())); diff != "" {
			t.Fatalf("snapshot service %s differs (-want +got):\n%s", svc.Key(), diff)
		}
	}
	if diff := cmp.Diff(want.VirtualDestinations(), got.VirtualDestinations()); diff != "" {
		t.Fatalf("snapshot VirtualDestinations differ (-want +got):\n%s", diff)
	}
	for _, vd := range want.VirtualDestinations() {
		if diff := cmp.Diff(want.SelectedServices(&vd), got.SelectedServices(&vd)); diff != "" {
			t.Fatalf("services selected by %s differ (-want +got):\n%s", vd.Name, diff)
		}
	}
	if changed, ok := model.EndpointsOnlyDiff(want, got); !ok || len(changed) != 0 {
		t.Fatalf("EndpointsOnlyDiff(NewSnapshot, snapshot) = %v, %v; want no change", changed, ok)
	}
}

func errorStrings(errs []error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// Building again from the same objects reports no change.
func TestWorldCacheUnchanged(t *testing.T) {
	workloads := map[string]*WorkloadObjects{"cluster-1": {
		Services:       []*corev1.Service{reviewsService},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-a", "reviews", httpPort, endpoint("10.0.0.1"))},
	}}
	cfg := &ConfigObjects{VirtualDestinations: []*v1alpha1.VirtualDestination{virtualDestination("bookinfo", "reviews", nil)}}
	var wc worldCache
	if _, _, changed := wc.build([]ClusterInfo{cluster1}, workloads, cfg); !changed {
		t.Fatal("first build: no change reported")
	}
	if _, _, changed := wc.build([]ClusterInfo{cluster1}, workloads, cfg); changed {
		t.Fatal("same objects: change reported")
	}
	// A new object equal to the old (a no-op update) changes nothing either.
	workloads["cluster-1"].EndpointSlices = []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-a", "reviews", httpPort, endpoint("10.0.0.1"))}
	if _, _, changed := wc.build([]ClusterInfo{cluster1}, workloads, cfg); changed {
		t.Fatal("equal objects: change reported")
	}
	if _, _, changed := wc.build(nil, nil, cfg); !changed {
		t.Fatal("cluster removed: no change reported")
	}
}

// Custom resources are converted once per object version: an unchanged
// object keeps its typed copy, a replaced one is converted again, and a
// bad one is reported at every call.
func TestConvertCRsReusesConversions(t *testing.T) {
	idx := newIndexer()
	for _, name := range []string{"a", "b"} {
		mustAdd(t, idx, unstructuredVD("ns", name, name+".mesh"))
	}
	bad := unstructuredVD("ns", "c", "c.mesh")
	bad.Object["spec"].(map[string]interface{})["hosts"] = "not a list"
	mustAdd(t, idx, bad)
	l := cache.NewGenericLister(idx, gvrVirtualDestination.GroupResource())
	var last crConversions
	var errs1, errs2, errs3 []error
	first := convertCRs[v1alpha1.VirtualDestination](l, "VirtualDestination", &last, &errs1)
	second := convertCRs[v1alpha1.VirtualDestination](l, "VirtualDestination", &last, &errs2)
	if len(first) != 2 || first[0].Name != "a" || first[1].Name != "b" || len(errs1) != 1 {
		t.Fatalf("first conversion: %d objects, errors %v", len(first), errs1)
	}
	if !slices.Equal(first, second) || len(errs2) != 1 {
		t.Fatalf("unchanged objects were converted again (errors %v)", errs2)
	}
	if err := idx.Update(unstructuredVD("ns", "b", "b2.mesh")); err != nil {
		t.Fatal(err)
	}
	third := convertCRs[v1alpha1.VirtualDestination](l, "VirtualDestination", &last, &errs3)
	if len(third) != 2 || third[0] != first[0] || third[1] == first[1] || third[1].Spec.Hosts[0] != "b2.mesh" || len(errs3) != 1 {
		t.Fatalf("after an update: %v, errors %v", third, errs3)
	}
}
