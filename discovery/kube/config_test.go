package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

func TestLoadClusterConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clusters.yaml")
	content := `
staleAfter: 90s
syncTimeout: 2m
clusters:
- name: cluster-1
  kubeconfig: kube/cluster-1.kubeconfig
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
  eastWestGateways: [{address: 127.0.1.100, port: 15443}, {address: "::1"}]
- name: cluster-2
  kubeconfig: /etc/causeway/cluster-2.kubeconfig
`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadClusterConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &ClusterConfig{
		StaleAfter:  90 * time.Second,
		SyncTimeout: 2 * time.Minute,
		Clusters: []ClusterEntry{
			{
				Name: "cluster-1", Kubeconfig: filepath.Join(dir, "kube/cluster-1.kubeconfig"), Network: "network-1",
				Locality:         model.Locality{Region: "us-east", Zone: "us-east-1a"},
				EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}, {Address: "::1", Port: DefaultEastWestPort}},
			},
			{Name: "cluster-2", Kubeconfig: "/etc/causeway/cluster-2.kubeconfig"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if e := got.Entry("cluster-2"); e == nil || e.Kubeconfig != "/etc/causeway/cluster-2.kubeconfig" {
		t.Errorf("Entry(cluster-2) = %+v", e)
	}
	if e := got.Entry("cluster-3"); e != nil {
		t.Errorf("Entry(cluster-3) = %+v, want nil", e)
	}
	info := got.Clusters[0].Info()
	wantInfo := ClusterInfo{Name: "cluster-1", Network: "network-1", Locality: want.Clusters[0].Locality, EastWestGateways: want.Clusters[0].EastWestGateways}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
}

func TestLoadClusterConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{
			name:    "unknown fields name their path",
			content: "clusters:\n- name: c1\n  kubeconfig: k\n  locality: {region: r, rack: 7}\n  colour: blue\n",
			want:    []string{`clusters.yaml: unknown field "clusters[0].colour"`, `clusters.yaml: unknown field "clusters[0].locality.rack"`},
		},
		{
			name:    "bad durations",
			content: "staleAfter: soon\nsyncTimeout: -5s\nclusters: [{name: c1, kubeconfig: k}]\n",
			want: []string{
				`clusters.yaml: staleAfter: "soon" is not a duration`,
				`clusters.yaml: syncTimeout: must be positive, got -5s`,
			},
		},
		{
			name: "entry fields",
			content: `clusters:
- kubeconfig: k
- name: Cluster_1
- name: c3
  kubeconfig: k
  eastWestGateways: [{address: gateway.example.com}, {port: 70000, address: 10.0.0.1}, {port: 1}]
- name: c3
  kubeconfig: k2
`,
			want: []string{
				"clusters.yaml: clusters[0]: name: is required",
				`clusters.yaml: clusters[1] (Cluster_1): name: "Cluster_1" is not a valid name`,
				"clusters.yaml: clusters[1] (Cluster_1): kubeconfig: is required",
				`clusters.yaml: clusters[2] (c3): eastWestGateways[0].address: "gateway.example.com" is not an IP address`,
				"clusters.yaml: clusters[2] (c3): eastWestGateways[1].port: must be 1-65535, got 70000",
				"clusters.yaml: clusters[2] (c3): eastWestGateways[2].address: is required",
				`clusters.yaml: clusters[3] (c3): name: duplicate cluster "c3", first in clusters[2]`,
			},
		},
		{
			name:    "not YAML",
			content: "clusters: [\n",
			want:    []string{"clusters.yaml: "},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseClusterConfig("clusters.yaml", []byte(tc.content))
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("errors:\n%s\nwant %d:\n%s", err, len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, want := range tc.want {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("error %d: %q, want prefix %q", i, lines[i], want)
				}
			}
		})
	}
}

func TestLoadClusterConfigMissingFile(t *testing.T) {
	if _, err := LoadClusterConfig(filepath.Join(t.TempDir(), "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("err = %v, want one naming the file", err)
	}
}
