package apiconv_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/apiconv"
	"github.com/causeway-dev/causeway/model"
)

func TestVirtualDestination(t *testing.T) {
	created := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	labels := map[string]string{"app": "reviews"}
	vd := &v1alpha1.VirtualDestination{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "reviews", Labels: labels, CreationTimestamp: metav1.NewTime(created)},
		Spec: v1alpha1.VirtualDestinationSpec{
			Hosts: []string{"reviews.mesh"},
			Ports: []v1alpha1.VirtualDestinationPort{
				{Number: 9080, Protocol: "HTTP", TargetPort: &v1alpha1.TargetPort{Name: "http"}},
				{Number: 9443, TargetPort: &v1alpha1.TargetPort{Number: 8443}},
			},
			Services:         []v1alpha1.ServiceSelector{{Labels: labels, Cluster: "c1"}, {Labels: map[string]string{}, Namespace: "bookinfo"}},
			ExternalServices: []v1alpha1.ExternalServiceSelector{{Name: "vm", Namespace: "ext"}},
			Subsets:          []v1alpha1.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}},
		},
	}
	got, errs := apiconv.VirtualDestination(vd)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := model.VirtualDestination{
		Namespace: "bookinfo", Name: "reviews", Hosts: []string{"reviews.mesh"}, Labels: labels,
		Ports: []model.VirtualDestinationPort{
			{Number: 9080, Protocol: "HTTP", TargetPort: &model.TargetPort{Name: "http"}},
			{Number: 9443, TargetPort: &model.TargetPort{Number: 8443}},
		},
		// Empty labels become nil.
		Services:         []model.ServiceSelector{{Labels: labels, Cluster: "c1"}, {Namespace: "bookinfo"}},
		ExternalServices: []model.ServiceSelector{{Name: "vm", Namespace: "ext"}},
		Subsets:          []model.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}},
		Age:              model.Age{CreationTimestamp: created},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("virtual destination (-want +got):\n%s", diff)
	}
	got.Labels["app"], got.Services[0].Labels["app"] = "changed", "changed"
	if labels["app"] != "reviews" {
		t.Error("converted virtual destination shares labels with the object")
	}
}

// TestVirtualDestinationSelectsEverything: a selector with no field set
// matches every Service of every cluster, so it is refused naming the
// entry; one field is enough.
func TestVirtualDestinationSelectsEverything(t *testing.T) {
	vd := &v1alpha1.VirtualDestination{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "reviews"},
		Spec: v1alpha1.VirtualDestinationSpec{
			Hosts: []string{"reviews.mesh"},
			Ports: []v1alpha1.VirtualDestinationPort{{Number: 9080}},
			Services: []v1alpha1.ServiceSelector{
				{Cluster: "c1"}, {}, {Labels: map[string]string{}}, {Name: "reviews"}, {Namespace: "bookinfo"},
				{Labels: map[string]string{"app": "reviews"}},
			},
		},
	}
	_, errs := apiconv.VirtualDestination(vd)
	want := []apiconv.FieldError{
		{Field: "spec.services[1]", Message: "selects every Service in the mesh; give labels, name, namespace or cluster"},
		{Field: "spec.services[2]", Message: "selects every Service in the mesh; give labels, name, namespace or cluster"},
	}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
