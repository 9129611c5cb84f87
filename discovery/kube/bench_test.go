package kube

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	gwlisters "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gwlistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// benchSizes are worlds of 1,000 and 10,000 VirtualDestinations, each
// backed by one Service per cluster in 3 clusters with one EndpointSlice of
// 10 endpoints: 30,000 and 300,000 endpoints, as the load test seeds them.
var benchSizes = []int{1000, 10000}

const (
	benchClusters  = 3
	benchEndpoints = 10
	benchNodes     = 6 // per cluster, two per zone
)

// benchEnv is the informer caches of a generated world, read through the
// same listers the controller uses.
type benchEnv struct {
	infos    []ClusterInfo
	clusters []*workloadCluster
	slices   []cache.Indexer // per cluster
	mgmt     *managementInformers
}

func newIndexer() cache.Indexer {
	return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}

func benchName(i int) string { return fmt.Sprintf("app-%d", i) }

func newBenchEnv(tb testing.TB, vds int) *benchEnv {
	env := &benchEnv{}
	for c := range benchClusters {
		name := fmt.Sprintf("c%d", c+1)
		env.infos = append(env.infos, ClusterInfo{Name: name, Network: "n" + name, Locality: model.Locality{Region: "r" + name, Zone: "z" + name},
			EastWestGateways: []model.GatewayAddress{{Address: fmt.Sprintf("127.0.%d.100", c+1), Port: 15443}}})
		svcs, slices, pods, nodes := newIndexer(), newIndexer(), newIndexer(), newIndexer()
		for n := range benchNodes {
			mustAdd(tb, nodes, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", n), ResourceVersion: "1", Labels: map[string]string{
				corev1.LabelTopologyRegion: "r" + name, corev1.LabelTopologyZone: fmt.Sprintf("z%s-%d", name, n/2)}}})
		}
		for i := range vds {
			app := benchName(i)
			mustAdd(tb, svcs, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: app, ResourceVersion: "1", Labels: map[string]string{"app": app}},
				Spec: corev1.ServiceSpec{Selector: map[string]string{"app": app},
					Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, AppProtocol: ptrTo("http")}}},
			})
			mustAdd(tb, slices, benchSlice(c, i, -1))
		}
		env.slices = append(env.slices, slices)
		env.clusters = append(env.clusters, &workloadCluster{
			spec:           clusterSpec{info: env.infos[c]},
			services:       corelisters.NewServiceLister(svcs),
			endpointSlices: discoverylisters.NewEndpointSliceLister(slices),
			pods:           corelisters.NewPodLister(pods),
			nodes:          corelisters.NewNodeLister(nodes),
		})
	}
	env.mgmt = &managementInformers{crs: map[schema.GroupVersionResource]cache.GenericLister{},
		classes: gwlisters.NewGatewayClassLister(newIndexer()), gateways: gwlisters.NewGatewayLister(newIndexer()), httpRoutes: gwlisters.NewHTTPRouteLister(newIndexer()),
		refGrants: gwlistersv1beta1.NewReferenceGrantLister(newIndexer()),
		gwAPI:     &gatewayAPIInformers{namespaces: corelisters.NewNamespaceLister(newIndexer()), tlsSecrets: corelisters.NewSecretLister(newIndexer())}}
	for _, gvr := range []schema.GroupVersionResource{gvrVirtualDestination, gvrExternalService, gvrFailoverPolicy, gvrOutlierDetectionPolicy, gvrWorkspace, gvrGatewayParameters} {
		idx := newIndexer()
		if gvr == gvrVirtualDestination {
			for i := range vds {
				vd := &v1alpha1.VirtualDestination{
					ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: benchName(i), ResourceVersion: "1"},
					Spec: v1alpha1.VirtualDestinationSpec{
						Hosts:    []string{benchName(i) + ".mesh.internal"},
						Ports:    []v1alpha1.VirtualDestinationPort{{Number: 80, Protocol: "HTTP"}},
						Services: []v1alpha1.ServiceSelector{{Labels: map[string]string{"app": benchName(i)}}},
					},
				}
				u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(vd)
				if err != nil {
					tb.Fatal(err)
				}
				mustAdd(tb, idx, &unstructured.Unstructured{Object: u})
			}
		}
		env.mgmt.crs[gvr] = cache.NewGenericLister(idx, gvr.GroupResource())
	}
	return env
}

// benchSlice is app i's EndpointSlice in cluster c, with endpoint
// notReady (if any) not ready.
func benchSlice(c, i, notReady int) *discoveryv1.EndpointSlice {
	app := benchName(i)
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: app + "-abcde", ResourceVersion: "1", Labels: map[string]string{discoveryv1.LabelServiceName: app}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(8080)), Protocol: ptrTo(corev1.ProtocolTCP)}},
	}
	for e := range benchEndpoints {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", c, i/250, (i%250)*benchEndpoints/10+e)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(e != notReady)},
			NodeName:   ptrTo(fmt.Sprintf("node-%d", e%benchNodes)),
			Zone:       ptrTo(fmt.Sprintf("zc%d-%d", c+1, (e%benchNodes)/2)),
		})
	}
	return s
}

func mustAdd(tb testing.TB, idx cache.Indexer, obj interface{}) {
	if err := idx.Add(obj); err != nil {
		tb.Fatal(err)
	}
}

// flip replaces app i's slice in cluster 0, as an informer applies an
// update: a new object, its first endpoint ready or not.
func (env *benchEnv) flip(tb testing.TB, i int, notReady bool) {
	s := benchSlice(0, i, -1)
	if notReady {
		s = benchSlice(0, i, 0)
	}
	if err := env.slices[0].Update(s); err != nil {
		tb.Fatal(err)
	}
}

// gather is what rebuild reads from the caches.
func (env *benchEnv) gather() (map[string]*WorkloadObjects, *ConfigObjects, []error) {
	workloads := map[string]*WorkloadObjects{}
	for _, wc := range env.clusters {
		workloads[wc.spec.info.Name] = wc.objects()
	}
	cfg, errs := env.mgmt.objects()
	return workloads, cfg, errs
}

// BenchmarkRebuildOneEndpointSliceChanged is the controller's work after
// the debounce when one endpoint of one EndpointSlice turned not ready (or
// ready again): read the caches, build the world (worldCache), make the
// snapshot (from the last: worldCache.snapshot). The other sub-benchmarks
// split it: gather reads the caches, gather+build adds the world,
// newsnapshot is a snapshot made from nothing, and
// buildworld is a conversion of everything (the offline path, and what
// every rebuild did before worldCache).
func BenchmarkRebuildOneEndpointSliceChanged(b *testing.B) {
	for _, vds := range benchSizes {
		env := newBenchEnv(b, vds)
		var (
			wc       worldCache
			notReady bool // in the last world built
		)
		rebuild := func(b *testing.B) model.World {
			notReady = !notReady
			env.flip(b, vds/2, notReady)
			workloads, cfg, _ := env.gather()
			w, _, changed := wc.build(env.infos, workloads, cfg)
			if !changed {
				b.Fatal("the change made the same world")
			}
			return w
		}
		rebuild(b)
		b.Run(fmt.Sprintf("vds=%d/total", vds), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				wc.snapshot(rebuild(b))
			}
		})
		b.Run(fmt.Sprintf("vds=%d/gather", vds), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				env.flip(b, vds/2, n%2 == 0)
				env.gather()
				n++
			}
		})
		b.Run(fmt.Sprintf("vds=%d/gather+build", vds), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rebuild(b)
			}
		})
		workloads, cfg, _ := env.gather()
		w, _ := BuildWorld(env.infos, workloads, cfg)
		b.Run(fmt.Sprintf("vds=%d/newsnapshot", vds), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				model.NewSnapshot(w)
			}
		})
		b.Run(fmt.Sprintf("vds=%d/buildworld", vds), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				BuildWorld(env.infos, workloads, cfg)
			}
		})
	}
}
