package provision

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

func class(name string, params *gwv1.ParametersReference) *model.GatewayClass {
	return &model.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: gwv1.GatewayClassSpec{ControllerName: model.DefaultControllerName, ParametersRef: params}}
}

func gateway(name, className, cluster string) *model.Gateway {
	gw := testGateway(80)
	gw.Name = name
	gw.Spec.GatewayClassName = gwv1.ObjectName(className)
	if cluster != "" {
		gw.Annotations = map[string]string{model.ClusterAnnotation: cluster}
	}
	return gw
}

// TestPlan: each accepted Gateway in each cluster serving it, with its
// class's parameters; a Gateway whose class names missing parameters keeps
// what it has (nothing new, nothing removed) and is reported.
func TestPlan(t *testing.T) {
	ns := gwv1.Namespace("web")
	ref := func(name string) *gwv1.ParametersReference {
		return &gwv1.ParametersReference{Group: v1alpha1.GroupName, Kind: "GatewayParameters", Name: name, Namespace: &ns}
	}
	snap := model.NewSnapshot(model.World{
		Clusters:       []model.Cluster{{Name: "c1"}, {Name: "c2"}},
		GatewayClasses: []*model.GatewayClass{class("plain", nil), class("tuned", ref("big")), class("dangling", ref("missing"))},
		GatewayParameters: []*model.GatewayParameters{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "big"},
			Spec: v1alpha1.GatewayParametersSpec{Replicas: ptr(int32(4))}}},
		Gateways: []*model.Gateway{
			gateway("everywhere", "plain", ""), gateway("pinned", "tuned", "c2"), gateway("kept", "dangling", "c1"),
		},
	})
	pl := Plan(Config{Namespace: "ns", XDSAddress: "a:1", Insecure: true}, snap)
	names := func(m map[string]*Objects) []string {
		var out []string
		for n, o := range m {
			out = append(out, n+"="+string(rune('0'+*o.Deployment.Spec.Replicas)))
		}
		slices.Sort(out)
		return out
	}
	want := map[string][]string{
		"c1": {ObjectName("web", "everywhere") + "=1"},
		"c2": sorted(ObjectName("web", "everywhere")+"=1", ObjectName("web", "pinned")+"=4"),
	}
	got := map[string][]string{"c1": names(pl.objects["c1"]), "c2": names(pl.objects["c2"])}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("planned objects (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]map[string]bool{"c1": {ObjectName("web", "kept"): true}}, pl.keep); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}
	if len(pl.problems) != 1 || !strings.Contains(pl.problems[0], "Gateway web/kept") || !strings.Contains(pl.problems[0], "GatewayParameters web/missing not found") {
		t.Errorf("problems %q, want one naming Gateway web/kept and the missing GatewayParameters", pl.problems)
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }
