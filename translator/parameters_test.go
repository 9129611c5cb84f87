package translator

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

func addressTestGateway(name string, spec ...gwv1.GatewaySpecAddress) *model.Gateway {
	return &model.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name},
		Spec: gwv1.GatewaySpec{GatewayClassName: "causeway", Addresses: spec,
			Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}},
	}
}

// TestGatewayStatusAddresses: spec.addresses win, else the provisioned
// Services' addresses of every cluster; with provisioning on, a Gateway
// without any is Programmed False, AddressNotAssigned.
func TestGatewayStatusAddresses(t *testing.T) {
	ip, host := gwv1.IPAddressType, gwv1.HostnameAddressType
	clusters := []model.Cluster{
		{Name: "c1", GatewayServiceAddresses: []model.GatewayServiceAddress{{Gateway: "web/provisioned", Type: ip, Value: "10.96.0.10"}}},
		{Name: "c2", GatewayServiceAddresses: []model.GatewayServiceAddress{
			{Gateway: "web/provisioned", Type: host, Value: "lb.example.com"},
			{Gateway: "web/other", Type: ip, Value: "10.96.0.99"},
		}},
	}
	gateways := []*model.Gateway{
		addressTestGateway("provisioned"),
		addressTestGateway("fixed", gwv1.GatewaySpecAddress{Value: "192.0.2.1"}, gwv1.GatewaySpecAddress{Type: &host, Value: "gw.example.com"}),
		addressTestGateway("none"),
	}
	type result struct {
		Addresses  []gwv1.GatewayStatusAddress
		Programmed string
	}
	for _, provisioning := range []bool{false, true} {
		snap := model.NewSnapshot(model.World{Clusters: clusters, Gateways: gateways, Provisioning: provisioning,
			GatewayClasses: []*model.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "causeway"}, Spec: gwv1.GatewayClassSpec{ControllerName: model.DefaultControllerName}}}})
		got := map[string]result{}
		for _, st := range Statuses(snap).Gateways {
			var programmed string
			for _, c := range st.Conditions {
				if c.Type == string(gwv1.GatewayConditionProgrammed) {
					programmed = string(c.Status) + "/" + c.Reason
				}
			}
			got[st.Name] = result{st.Addresses, programmed}
		}
		noAddress := "True/Programmed"
		if provisioning {
			noAddress = "False/AddressNotAssigned"
		}
		want := map[string]result{
			"provisioned": {[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "10.96.0.10"}, {Type: &host, Value: "lb.example.com"}}, "True/Programmed"},
			"fixed":       {[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "192.0.2.1"}, {Type: &host, Value: "gw.example.com"}}, "True/Programmed"},
			"none":        {nil, noAddress},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("provisioning %v: (-want +got):\n%s", provisioning, d)
		}
	}
}

func TestProvisionParameters(t *testing.T) {
	ns := gwv1.Namespace("web")
	gp := &model.GatewayParameters{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "big"},
		Spec: v1alpha1.GatewayParametersSpec{Image: "envoy:big"}}
	classes := []*model.GatewayClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "tuned"}, Spec: gwv1.GatewayClassSpec{ParametersRef: &gwv1.ParametersReference{Group: v1alpha1.GroupName, Kind: "GatewayParameters", Name: "big", Namespace: &ns}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "missing"}, Spec: gwv1.GatewayClassSpec{ParametersRef: &gwv1.ParametersReference{Group: v1alpha1.GroupName, Kind: "GatewayParameters", Name: "nope", Namespace: &ns}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "configmap"}, Spec: gwv1.GatewayClassSpec{ParametersRef: &gwv1.ParametersReference{Group: "", Kind: "ConfigMap", Name: "x", Namespace: &ns}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "nonamespace"}, Spec: gwv1.GatewayClassSpec{ParametersRef: &gwv1.ParametersReference{Group: v1alpha1.GroupName, Kind: "GatewayParameters", Name: "big"}}},
	}
	snap := model.NewSnapshot(model.World{GatewayClasses: classes, GatewayParameters: []*model.GatewayParameters{gp}, Provisioning: true})
	for _, tc := range []struct{ class, image, err string }{
		{"plain", v1alpha1.DefaultEnvoyImage, ""},
		{"tuned", "envoy:big", ""},
		{"missing", "", "GatewayClass missing: spec.parametersRef: GatewayParameters web/nope not found"},
		{"configmap", "", "GatewayClass configmap: spec.parametersRef: /ConfigMap is not supported"},
		{"nonamespace", "", "GatewayClass nonamespace: spec.parametersRef.namespace: is required"},
	} {
		gw := addressTestGateway("g")
		gw.Spec.GatewayClassName = gwv1.ObjectName(tc.class)
		spec, err := ProvisionParameters(snap, gw)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.class, err, tc.err)
			}
			if msg, ok := checkClassParameters(snap, snap.GatewayClass(tc.class)); ok || msg == "" {
				t.Errorf("%s: checkParametersRef accepted it", tc.class)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.class, err)
		case func() bool { _, ok := checkClassParameters(snap, snap.GatewayClass(tc.class)); return !ok }():
			t.Errorf("%s: checkClassParameters refused it", tc.class)
		case spec.ImageOrDefault() != tc.image:
			t.Errorf("%s: image %q, want %q", tc.class, spec.ImageOrDefault(), tc.image)
		}
	}
}

// TestClassParametersExistence: with provisioning a class naming missing
// GatewayParameters is not Accepted (InvalidParameters); without it only
// the reference's shape counts (nothing reads the parameters).
func TestClassParametersExistence(t *testing.T) {
	ns := gwv1.Namespace("web")
	gc := &model.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: gwv1.GatewayClassSpec{
		ControllerName: model.DefaultControllerName,
		ParametersRef:  &gwv1.ParametersReference{Group: v1alpha1.GroupName, Kind: "GatewayParameters", Name: "nope", Namespace: &ns},
	}}
	for _, provisioning := range []bool{false, true} {
		rep := Statuses(model.NewSnapshot(model.World{GatewayClasses: []*model.GatewayClass{gc}, Provisioning: provisioning}))
		if len(rep.GatewayClasses) != 1 || len(rep.GatewayClasses[0].Conditions) != 1 {
			t.Fatalf("provisioning %v: statuses %+v", provisioning, rep.GatewayClasses)
		}
		c := rep.GatewayClasses[0].Conditions[0]
		want := "True/Accepted"
		if provisioning {
			want = "False/InvalidParameters"
		}
		if got := string(c.Status) + "/" + c.Reason; got != want {
			t.Errorf("provisioning %v: Accepted %s (%s), want %s", provisioning, got, c.Message, want)
		}
	}
}
