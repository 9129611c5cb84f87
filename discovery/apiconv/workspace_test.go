package apiconv_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/apiconv"
	"github.com/causeway-dev/causeway/model"
)

func TestWorkspace(t *testing.T) {
	all := []v1alpha1.WorkspaceCluster{{Name: "*", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "*"}}}}
	allModel := []model.WorkspaceNamespace{{Cluster: "*", Namespace: "*"}}
	tests := []struct {
		name     string
		spec     v1alpha1.WorkspaceSpec
		want     model.Workspace
		wantErrs []string
	}{
		{
			name: "no federation",
			spec: v1alpha1.WorkspaceSpec{WorkloadClusters: all},
			want: model.Workspace{Name: "ws", Namespaces: allModel},
		},
		{
			name: "federation disabled is left out",
			spec: v1alpha1.WorkspaceSpec{WorkloadClusters: all, Federation: &v1alpha1.WorkspaceFederation{HostSuffix: "mesh"}},
			want: model.Workspace{Name: "ws", Namespaces: allModel},
		},
		{
			name: "federation default suffix",
			spec: v1alpha1.WorkspaceSpec{WorkloadClusters: all, Federation: &v1alpha1.WorkspaceFederation{Enabled: true}},
			want: model.Workspace{Name: "ws", Namespaces: allModel, Federation: &model.Federation{HostSuffix: "global"}},
		},
		{
			name: "every pair, refs and selectors",
			spec: v1alpha1.WorkspaceSpec{
				WorkloadClusters: []v1alpha1.WorkspaceCluster{
					{Name: "cluster-1", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "a"}, {Name: "b"}}},
					{Name: "*", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "c"}}},
				},
				ImportFrom: []v1alpha1.WorkspaceRef{{Name: "*"}},
				ExportTo:   []v1alpha1.WorkspaceRef{{Name: "x"}, {Name: "y"}},
				Federation: &v1alpha1.WorkspaceFederation{Enabled: true, HostSuffix: "mesh.example",
					ServiceSelector: []v1alpha1.ExternalServiceSelector{{Labels: map[string]string{"app": "r"}, Name: "r", Namespace: "a"}}},
			},
			want: model.Workspace{
				Name:       "ws",
				Namespaces: []model.WorkspaceNamespace{{Cluster: "cluster-1", Namespace: "a"}, {Cluster: "cluster-1", Namespace: "b"}, {Cluster: "*", Namespace: "c"}},
				ImportFrom: []string{"*"}, ExportTo: []string{"x", "y"},
				Federation: &model.Federation{HostSuffix: "mesh.example", Selectors: []model.ServiceSelector{{Labels: map[string]string{"app": "r"}, Name: "r", Namespace: "a"}}},
			},
		},
		{
			name: "invalid",
			spec: v1alpha1.WorkspaceSpec{
				WorkloadClusters: []v1alpha1.WorkspaceCluster{{Name: "c", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "a*"}}}},
				ExportTo:         []v1alpha1.WorkspaceRef{{}},
			},
			wantErrs: []string{
				`spec.workloadClusters[0].namespaces[0].name: "a*" is not a valid namespace (or "*"): `,
				`spec.exportTo[0].name: is required (a workspace name or "*")`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := apiconv.Workspace(&v1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "ws"}, Spec: tt.spec})
			// Each wanted error is a prefix: the rest is apimachinery's wording.
			var msgs []string
			for i, e := range errs {
				msg := e.Error()
				if i < len(tt.wantErrs) && strings.HasPrefix(msg, tt.wantErrs[i]) {
					msg = tt.wantErrs[i]
				}
				msgs = append(msgs, msg)
			}
			if diff := cmp.Diff(tt.wantErrs, msgs); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if len(errs) == 0 {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("workspace (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestWorkspaceCopies: the model must not share maps with informer caches.
func TestWorkspaceCopies(t *testing.T) {
	labels := map[string]string{"app": "r"}
	ws := &v1alpha1.Workspace{Spec: v1alpha1.WorkspaceSpec{
		WorkloadClusters: []v1alpha1.WorkspaceCluster{{Name: "*", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "*"}}}},
		Federation:       &v1alpha1.WorkspaceFederation{Enabled: true, ServiceSelector: []v1alpha1.ExternalServiceSelector{{Labels: labels}}},
	}}
	got, _ := apiconv.Workspace(ws)
	got.Federation.Selectors[0].Labels["app"] = "changed"
	if labels["app"] != "r" {
		t.Error("converted workspace shares selector labels with the object")
	}
	subsets, _ := apiconv.Subsets([]v1alpha1.Subset{{Name: "v1", Labels: labels}})
	subsets[0].Labels["app"] = "changed"
	if labels["app"] != "r" {
		t.Error("converted subsets share labels with the object")
	}
}
