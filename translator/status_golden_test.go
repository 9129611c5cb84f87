package translator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/file"
)

// statusFileEntry is one object of a golden case's status.yaml: the status
// Statuses reports for Causeway's own kinds, lastTransitionTime and
// observedGeneration left to the writer.
type statusFileEntry struct {
	Object     string                          `json:"object"`
	State      string                          `json:"state"`
	Message    string                          `json:"message,omitempty"`
	Conditions []string                        `json:"conditions"`
	AttachedTo []v1alpha1.DestinationReference `json:"attachedTo,omitempty"`
}

// TestGoldenStatuses checks status.yaml of every golden case whose world
// has VirtualDestinations, ExternalServices, policies or Workspaces (the
// cases without any have nothing to report). -update rewrites it.
func TestGoldenStatuses(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(goldenDir, e.Name())
		w, err := file.Load(filepath.Join(dir, "world.yaml"))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		got := statusFile(Statuses(w))
		path := filepath.Join(dir, "status.yaml")
		if len(got) == 0 {
			if _, err := os.Stat(path); err == nil {
				t.Errorf("%s: the world has none of Causeway's kinds; remove the file", path)
			}
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			if *update {
				out, err := yaml.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, path, out)
			}
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s missing: rerun go test ./translator/ -update to write it", path)
			} else if err != nil {
				t.Fatal(err)
			}
			var want []statusFileEntry
			if err := yaml.UnmarshalStrict(data, &want); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s mismatch (-want +got; rerun with -update only if the change is intended):\n%s", path, diff)
			}
		})
	}
	if n == 0 {
		t.Fatalf("no golden case under %s has a status to check", goldenDir)
	}
}

func statusFile(rep *StatusReport) []statusFileEntry {
	var out []statusFileEntry
	for _, st := range rep.VirtualDestinations {
		out = append(out, statusFileEntry{Object: "VirtualDestination " + st.Namespace + "/" + st.Name,
			State: st.State, Message: st.Message, Conditions: condLines(st.Conditions)})
	}
	for _, st := range rep.ExternalServices {
		out = append(out, statusFileEntry{Object: "ExternalService " + st.Namespace + "/" + st.Name,
			State: st.State, Message: st.Message, Conditions: condLines(st.Conditions)})
	}
	for _, p := range []struct {
		kind string
		list []PolicyStatus
	}{{"FailoverPolicy", rep.FailoverPolicies}, {"OutlierDetectionPolicy", rep.OutlierDetectionPolicies}} {
		for _, st := range p.list {
			out = append(out, statusFileEntry{Object: p.kind + " " + st.Namespace + "/" + st.Name,
				State: st.State, Message: st.Message, Conditions: condLines(st.Conditions), AttachedTo: st.AttachedTo})
		}
	}
	for _, st := range rep.Workspaces {
		out = append(out, statusFileEntry{Object: "Workspace " + st.Name,
			State: st.State, Message: st.Message, Conditions: condLines(st.Conditions)})
	}
	return out
}
