package file

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/causeway-dev/causeway/model"
)

func ptr[T any](v T) *T { return &v }

func TestLoadValidWorld(t *testing.T) {
	snap, err := Load("testdata/world.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantClusters := []model.Cluster{
		{
			Name: "cluster-1", Network: "network-1",
			Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"},
			// The second gateway's port defaults to 15443.
			EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}, {Address: "127.0.1.101", Port: 15443}},
		},
		{
			Name: "cluster-2", Network: "network-2",
			Locality:         model.Locality{Region: "us-west", Zone: "us-west-1a", Subzone: "rack-1"},
			EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}},
		},
	}
	wantServices := []model.Service{
		{
			Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews-v1",
			Labels: map[string]string{"app": "reviews", "version": "v1"},
			Ports:  []model.ServicePort{{Name: "http", Port: 9080, TargetPort: 19080, Protocol: "HTTP"}},
			Endpoints: []model.Endpoint{
				{
					// Zone overrides the cluster's; region stays. Ports default to the service's target ports.
					Address: "127.0.1.10", Ready: true,
					Locality: model.Locality{Region: "us-east", Zone: "us-east-1b"},
					Labels:   map[string]string{"version": "v1"},
					Ports:    []model.EndpointPort{{Name: "http", Port: 19080}},
				},
				{
					Address: "127.0.1.11", Ready: false,
					Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"},
					Ports:    []model.EndpointPort{{Name: "http", Port: 9081}},
				},
			},
		},
		{
			// Its cluster appears later in the file; targetPort defaults to port.
			Cluster: "cluster-2", Namespace: "bookinfo", Name: "reviews-v2",
			Labels: map[string]string{"app": "reviews", "version": "v2"},
			Ports:  []model.ServicePort{{Name: "http", Port: 9080, TargetPort: 9080}},
			Endpoints: []model.Endpoint{{
				Address: "127.0.2.10", Ready: true,
				Locality: model.Locality{Region: "us-west", Zone: "us-west-1a", Subzone: "rack-1"},
				Ports:    []model.EndpointPort{{Name: "http", Port: 9080}},
			}},
		},
	}
	wantVDs := []model.VirtualDestination{{
		Namespace: "bookinfo", Name: "reviews",
		Hosts:               []string{"reviews.mesh.internal.com"},
		Ports:               []model.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP", TargetPort: &model.TargetPort{Name: "http"}}},
		Services:            []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
		TrafficDistribution: model.TrafficDistributionPreferClose,
		Labels:              map[string]string{"failover": "true"},
		ExternalServices:    []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}, Namespace: "bookinfo"}},
		Subsets: []model.Subset{
			{Name: "v1", Labels: map[string]string{"version": "v1"}},
			{Name: "east", Labels: map[string]string{model.SubsetClusterLabel: "cluster-1"}},
		},
		// Seq is the document index (comments-only documents not counted).
		Age: model.Age{CreationTimestamp: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Seq: 5},
	}}
	wantGateways := []*model.Gateway{{
		TypeMeta: metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "ingress", Namespace: "bookinfo",
			Annotations: map[string]string{model.ClusterAnnotation: "cluster-1"},
		},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: "causeway",
			Listeners:        []gwv1.Listener{{Name: "http", Port: 8080, Protocol: gwv1.HTTPProtocolType}},
		},
	}}
	wantRoutes := []*model.HTTPRoute{{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: "reviews", Namespace: "bookinfo"},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "ingress"}}},
			Rules: []gwv1.HTTPRouteRule{{
				Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/reviews")}}},
				BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
					Group: ptr(gwv1.Group("networking.istio.io")), Kind: ptr(gwv1.Kind("Hostname")),
					Name: "reviews.mesh.internal.com", Port: ptr(gwv1.PortNumber(9080)),
				}}}},
			}},
		},
	}}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"clusters", snap.Clusters(), wantClusters},
		{"services", snap.Services(), wantServices},
		{"virtual destinations", snap.VirtualDestinations(), wantVDs},
		{"gateways", snap.Gateways(), wantGateways},
		{"httproutes", snap.HTTPRoutes(), wantRoutes},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", c.name, diff)
		}
	}
}

const cluster1 = `apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {locality: {region: r1, zone: z1}, eastWestGateways: [{address: 127.0.1.100}]}
`

// vd returns a VirtualDestination document with the given spec lines.
func vd(spec string) string {
	return "apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n" + spec
}

const okVDSpec = "  hosts: [reviews.mesh.internal.com]\n  ports: [{number: 9080}]\n  services: [{labels: {app: reviews}}]\n"

func service(spec string) string {
	return "apiVersion: world.causeway.dev/v1alpha1\nkind: Service\nmetadata: {name: reviews-v1, namespace: bookinfo}\nspec:\n" + spec
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		docs []string
		want []string // each must appear in the error text
	}{
		{
			name: "vd port out of range",
			docs: []string{cluster1, vd("  hosts: [a.b]\n  ports: [{number: 70000}]\n  services: [{name: x}]\n")},
			want: []string{"world.yaml: document 2 (VirtualDestination bookinfo/reviews): spec.ports[0].number: must be 1-65535"},
		},
		{
			name: "vd needs hosts ports services",
			docs: []string{vd("  hosts: []\n")},
			want: []string{
				"document 1 (VirtualDestination bookinfo/reviews): spec.hosts: at least one host is required",
				"document 1 (VirtualDestination bookinfo/reviews): spec.ports: at least one port is required",
				"document 1 (VirtualDestination bookinfo/reviews): spec.services: at least one of spec.services or spec.externalServices must select a backend",
			},
		},
		{
			name: "vd bad traffic distribution",
			docs: []string{vd(okVDSpec + "  trafficDistribution: PreferFar\n")},
			want: []string{"document 1 (VirtualDestination bookinfo/reviews): spec.trafficDistribution: \"PreferFar\" is not supported"},
		},
		{
			name: "vd target port with number and name",
			docs: []string{vd("  hosts: [a.b]\n  ports: [{number: 80, targetPort: {number: 8080, name: http}}]\n  services: [{name: x}]\n")},
			want: []string{"spec.ports[0].targetPort: set exactly one of number or name"},
		},
		{
			name: "vd target port empty",
			docs: []string{vd("  hosts: [a.b]\n  ports: [{number: 80, targetPort: {}}]\n  services: [{name: x}]\n")},
			want: []string{"spec.ports[0].targetPort: set exactly one of number or name"},
		},
		{
			name: "vd bad host",
			docs: []string{vd("  hosts: [Not_A_Host]\n  ports: [{number: 80}]\n  services: [{name: x}]\n")},
			want: []string{"spec.hosts[0]: \"Not_A_Host\" is not a valid hostname"},
		},
		{
			name: "unknown field",
			docs: []string{cluster1, vd(okVDSpec + "  bogus: 1\n")},
			want: []string{"document 2 (VirtualDestination bookinfo/reviews): ", `unknown field "spec.bogus"`},
		},
		{
			name: "missing name",
			docs: []string{"apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {}\nspec: {}\n"},
			want: []string{"document 1 (Cluster): metadata.name: is required"},
		},
		{
			name: "service cluster not found",
			docs: []string{service("  cluster: cluster-9\n")},
			want: []string{`document 1 (Service bookinfo/reviews-v1): spec.cluster: cluster "cluster-9" not found`},
		},
		{
			name: "service cluster required",
			docs: []string{service("  ports: [{port: 80}]\n")},
			want: []string{"document 1 (Service bookinfo/reviews-v1): spec.cluster: is required"},
		},
		{
			name: "service ports and endpoint address",
			docs: []string{cluster1, service("  cluster: cluster-1\n  ports: [{port: 0}, {port: 80, targetPort: 65536}]\n  endpoints: [{address: 10.0.0.300}, {address: 127.0.1.10, ports: [{port: -1}]}]\n")},
			want: []string{
				"document 2 (Service bookinfo/reviews-v1): spec.ports[0].port: must be 1-65535, got 0",
				"spec.ports[1].targetPort: must be 1-65535, got 65536",
				`spec.endpoints[0].address: "10.0.0.300" is not an IP address`,
				"spec.endpoints[1].ports[0].port: must be 1-65535, got -1",
			},
		},
		{
			name: "duplicate cluster",
			docs: []string{cluster1, cluster1},
			want: []string{"document 2 (Cluster cluster-1): metadata.name: duplicate Cluster cluster-1, first defined in document 1"},
		},
		{
			name: "duplicate service in one cluster",
			docs: []string{cluster1, service("  cluster: cluster-1\n"), service("  cluster: cluster-1\n")},
			want: []string{"document 3 (Service bookinfo/reviews-v1): metadata.name: duplicate Service bookinfo/reviews-v1 in cluster cluster-1, first defined in document 2"},
		},
		{
			name: "east-west gateway address",
			docs: []string{"apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec: {eastWestGateways: [{address: gw.example.com, port: 99999}]}\n"},
			want: []string{
				`document 1 (Cluster c): spec.eastWestGateways[0].address: "gw.example.com" is not an IP address`,
				"document 1 (Cluster c): spec.eastWestGateways[0].port: must be 1-65535, got 99999",
			},
		},
		{
			name: "unsupported kind",
			docs: []string{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"},
			want: []string{`document 1 (Pod default/p): unsupported apiVersion "v1" kind "Pod"`},
		},
		{
			name: "invalid yaml",
			docs: []string{cluster1, "kind: [\n"},
			want: []string{"world.yaml: document 2 (line 8): invalid YAML", "yaml: line 8:"},
		},
		{
			name: "duplicate key names the file line",
			docs: []string{cluster1, service("  cluster: cluster-1\n  cluster: cluster-1\n")},
			want: []string{"document 2 (Service bookinfo/reviews-v1): ", `line 13: key "cluster" already set`},
		},
		{
			name: "gateway strict",
			docs: []string{"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {gatewayClassName: x, listeners: [{name: l, port: 80, protocol: HTTP, colour: red}]}\n"},
			want: []string{`document 1 (Gateway default/gw): `, `unknown field "spec.listeners[0].colour"`},
		},
		{
			name: "gateway pinned to unknown cluster",
			docs: []string{"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, annotations: {causeway.dev/cluster: nope}}\nspec: {gatewayClassName: x, listeners: [{name: l, port: 80, protocol: HTTP}]}\n"},
			want: []string{`document 1 (Gateway default/gw): metadata.annotations[causeway.dev/cluster]: cluster "nope" not found`},
		},
		{
			name: "httproute strict",
			docs: []string{"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns}\nspec: {rules: [{backendRef: []}]}\n"},
			want: []string{`document 1 (HTTPRoute ns/r): `, `unknown field "spec.rules[0].backendRef"`},
		},
		{
			name: "referencegrant strict",
			docs: []string{"apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: ns}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}], to: [{kind: Service, nmae: x}]}\n"},
			want: []string{`document 1 (ReferenceGrant ns/g): `, `unknown field "spec.to[0].nmae"`},
		},
		{
			name: "referencegrant without sides",
			docs: []string{"apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: ns}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute}]}\n"},
			want: []string{
				"document 1 (ReferenceGrant ns/g): spec.to: at least one entry is required",
				"document 1 (ReferenceGrant ns/g): spec.from[0]: kind and namespace are required",
			},
		},
		{
			name: "referencegrant in gateway v1 is not served",
			docs: []string{"apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {name: g}\nspec: {}\n"},
			want: []string{`document 1 (ReferenceGrant default/g): unsupported apiVersion "gateway.networking.k8s.io/v1" kind "ReferenceGrant"`},
		},
		{
			name: "vd selector selecting every service",
			docs: []string{vd("  hosts: [a.b]\n  ports: [{number: 80}]\n  services: [{cluster: cluster-1}, {}]\n")},
			want: []string{"document 1 (VirtualDestination bookinfo/reviews): spec.services[1]: selects every Service in the mesh; give labels, name, namespace or cluster"},
		},
		{
			name: "kind missing",
			docs: []string{cluster1, "apiVersion: world.causeway.dev/v1alpha1\nmetadata: {name: nokind, namespace: app}\n"},
			want: []string{"world.yaml: document 2 (app/nokind): kind is missing (want world.causeway.dev/v1alpha1 Cluster or Service"},
		},
		{
			name: "apiVersion missing",
			docs: []string{"kind: Cluster\nmetadata: {name: c}\n"},
			want: []string{"world.yaml: document 1 (Cluster c): apiVersion is missing"},
		},
		{
			name: "wrong-typed field",
			docs: []string{vd("  hosts: [a.b]\n  ports: [{number: 80}, {number: abc}]\n  services: [{name: x}]\n")},
			want: []string{`world.yaml: document 1 (VirtualDestination bookinfo/reviews): spec.ports[1].number: want an integer, got string "abc"`},
		},
		{
			name: "integer out of range",
			docs: []string{vd("  hosts: [a.b]\n  ports: [{number: 99999999999}]\n  services: [{name: x}]\n")},
			want: []string{"document 1 (VirtualDestination bookinfo/reviews): spec.ports[0].number: want an integer from -2147483648 to 2147483647, got number 99999999999"},
		},
		{
			name: "list wanted",
			docs: []string{vd("  hosts: {a: b}\n  ports: [{number: 80}]\n  services: [{name: x}]\n")},
			want: []string{"document 1 (VirtualDestination bookinfo/reviews): spec.hosts: want a list, got an object"},
		},
		{
			name: "wrong-typed label value",
			docs: []string{vd("  hosts: [a.b]\n  ports: [{number: 80}]\n  services: [{labels: {app.kubernetes.io/name: [x]}}]\n")},
			want: []string{`document 1 (VirtualDestination bookinfo/reviews): spec.services[0].labels["app.kubernetes.io/name"]: want a string, got a list`},
		},
		{
			name: "wrong-typed service port",
			docs: []string{cluster1, service("  cluster: cluster-1\n  ports: [{port: 80, targetPort: true}]\n")},
			want: []string{"document 2 (Service bookinfo/reviews-v1): spec.ports[0].targetPort: want an integer, got true"},
		},
		{
			name: "wrong-typed metadata",
			docs: []string{"apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: [c]}\n"},
			want: []string{"document 1: metadata.name: want a string, got a list"},
		},
		{
			name: "document not an object",
			docs: []string{"- a\n- b\n"},
			want: []string{"document 1: want an object, got a list"},
		},
		{
			name: "every error is reported",
			docs: []string{service("  cluster: nope\n"), vd("  hosts: [a.b]\n  ports: [{number: 0}]\n  services: [{name: x}]\n")},
			want: []string{"document 1 (Service bookinfo/reviews-v1): spec.cluster", "document 2 (VirtualDestination bookinfo/reviews): spec.ports[0].number"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := "# leading comment\n---\n" + strings.Join(tc.docs, "---\n")
			snap, err := Parse("world.yaml", []byte(data))
			if err == nil {
				t.Fatalf("Parse succeeded (%d clusters), want error", len(snap.Clusters()))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q; got:\n%v", w, err)
				}
			}
			// Go's names mean nothing to someone writing YAML.
			for _, goName := range []string{"Go struct", "Go value", "int32", "int64", "v1alpha1.", "( "} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("error contains %q:\n%v", goName, err)
				}
			}
		})
	}
}

func TestParseReferenceGrant(t *testing.T) {
	data := `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: routes-from-gloo, namespace: bookinfo}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gloo-system}]
  to: [{group: networking.causeway.dev, kind: VirtualDestination}, {group: "", kind: Service, name: ratings}]
`
	snap, err := Parse("world.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []*model.ReferenceGrant{{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1beta1", Kind: "ReferenceGrant"},
		ObjectMeta: metav1.ObjectMeta{Name: "routes-from-gloo", Namespace: "bookinfo"},
		Spec: gwv1beta1.ReferenceGrantSpec{
			From: []gwv1beta1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "gloo-system"}},
			To: []gwv1beta1.ReferenceGrantTo{
				{Group: "networking.causeway.dev", Kind: "VirtualDestination"},
				{Group: "", Kind: "Service", Name: ptr(gwv1beta1.ObjectName("ratings"))},
			},
		},
	}}
	if diff := cmp.Diff(want, snap.ReferenceGrants()); diff != "" {
		t.Errorf("ReferenceGrants (-want +got):\n%s", diff)
	}
}

func TestParseEmpty(t *testing.T) {
	snap, err := Parse("empty.yaml", []byte("# nothing\n---\n---\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if n := len(snap.Clusters()) + len(snap.Services()); n != 0 {
		t.Errorf("got %d objects, want 0", n)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yaml"); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}
