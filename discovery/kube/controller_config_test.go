package kube

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/model"
)

func TestNewControllerClustersFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("c1.kubeconfig", string(testKubeconfig(t, "https://127.0.0.1:1", "t")))
	write("broken.kubeconfig", "clusters: [")
	cases := []struct {
		name, file          string
		opts                Options
		wantErr             []string // all in the error, which wraps ErrInvalidClusterConfig
		wantStale, wantSync time.Duration
	}{
		{
			name:      "file timings",
			file:      "staleAfter: 5s\nsyncTimeout: 7s\nclusters:\n- {name: c1, kubeconfig: c1.kubeconfig}\n",
			wantStale: 5 * time.Second, wantSync: 7 * time.Second,
		},
		{
			name:      "options override the file",
			file:      "staleAfter: 5s\nclusters:\n- {name: c1, kubeconfig: c1.kubeconfig}\n",
			opts:      Options{StaleAfter: time.Second, SyncTimeout: 2 * time.Second},
			wantStale: time.Second, wantSync: 2 * time.Second,
		},
		{
			name:      "defaults",
			file:      "clusters:\n- {name: c1, kubeconfig: c1.kubeconfig}\n",
			wantStale: DefaultStaleAfter, wantSync: DefaultSyncTimeout,
		},
		{
			name:    "invalid field",
			file:    "staleAfter: soon\nclusters:\n- {name: c1, kubeconfig: c1.kubeconfig}\n",
			wantErr: []string{"staleAfter"},
		},
		{
			name:    "missing kubeconfig",
			file:    "clusters:\n- {name: c2, kubeconfig: nope.kubeconfig}\n",
			wantErr: []string{`cluster "c2"`, "nope.kubeconfig"},
		},
		{
			name:    "broken kubeconfig",
			file:    "clusters:\n- {name: c3, kubeconfig: broken.kubeconfig}\n",
			wantErr: []string{`cluster "c3"`, "broken.kubeconfig"},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Store = &model.Store{}
			opts.ClusterConfigPath = write("clusters"+string(rune('a'+i))+".yaml", tc.file)
			c, err := NewController(opts)
			if tc.wantErr != nil {
				if !errors.Is(err, ErrInvalidClusterConfig) {
					t.Fatalf("error %v, want one wrapping ErrInvalidClusterConfig", err)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.staleAfter != tc.wantStale || c.syncTimeout != tc.wantSync {
				t.Errorf("staleAfter, syncTimeout = %v, %v; want %v, %v", c.staleAfter, c.syncTimeout, tc.wantStale, tc.wantSync)
			}
			if len(c.fileSpecs) != 1 || c.fileSpecs[0].info.Name != "c1" || c.fileSpecs[0].rest.Host != "https://127.0.0.1:1" {
				t.Errorf("file clusters %+v", c.fileSpecs)
			}
		})
	}
}
