package main

import (
	"encoding/json"
	"flag"
	"github.com/causeway-dev/causeway/internal/admin"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

var updateExplain = flag.Bool("update-explain", false, "rewrite testdata/explain-demo-reviews.txt from explain's output")

const demoWorld = "../../examples/demo/world.yaml"

// demoReviewsArgs explain the demo's reviews host for cluster-1's gateway.
var demoReviewsArgs = []string{"explain", "--world", demoWorld, "--cluster", "cluster-1", "--all-gateways", "--host", "reviews.mesh.internal.com"}

// TestExplainDemoGolden compares explain's table for the demo world with
// testdata/explain-demo-reviews.txt (the README shows the same run).
func TestExplainDemoGolden(t *testing.T) {
	code, out, errOut := causeway(t, demoReviewsArgs...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	const golden = "testdata/explain-demo-reviews.txt"
	if *updateExplain {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (rerun with -update-explain only if intended):\n%s", golden, out)
	}
}

// TestExplainJSONMatchesTranslate checks that -o json's priorities are the
// ones translate prints for the same proxy: each endpoint's address (or
// east-west gateway) sits in the locality translate puts it in.
func TestExplainJSONMatchesTranslate(t *testing.T) {
	code, out, errOut := causeway(t, append(demoReviewsArgs, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var ex translator.Explanation
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	code, tr, errOut := causeway(t, "translate", "--world", demoWorld, "--cluster", "cluster-1", "--all-gateways", "--type", "endpoints")
	if code != 0 {
		t.Fatalf("translate exit %d, stderr:\n%s", code, errOut)
	}
	byLocality := endpointsOf(t, tr, "outbound|9080||reviews.mesh.internal.com")
	if len(ex.Destinations) != 1 || len(ex.Destinations[0].Endpoints) == 0 {
		t.Fatalf("want one destination with endpoints: %+v", ex.Destinations)
	}
	for _, e := range ex.Destinations[0].Endpoints {
		addr := e.Address + ":" + itoa(e.Port)
		if len(e.Via) > 0 {
			addr = e.Via[0].Address + ":" + itoa(e.Via[0].Port)
		}
		loc := strings.TrimRight(e.Locality.String(), "/")
		if !strings.Contains(strings.Join(byLocality[loc], " "), addr) {
			t.Errorf("%s: %s not in translate's locality %s: %v", e.Address, addr, loc, byLocality)
		}
	}
}

func itoa(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestExplainKube explains from manifests, as translate reads them.
func TestExplainKube(t *testing.T) {
	code, out, errOut := causeway(t, "explain", "--kube", "cluster-1="+seed+"/cluster-1", "--kube", "cluster-2="+seed+"/cluster-2",
		"--cluster", "cluster-1", "--gateway", "gloo-system/http", "--host", "reviews.mesh.internal.com")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"198.18.1.10", "east-west 198.18.2.100:15443"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestExplainErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown host", []string{"explain", "--world", demoWorld, "--cluster", "cluster-1", "--all-gateways", "--host", "reviews.mesh.internl.com"},
			"--host: host reviews.mesh.internl.com: no destination or route serves it; closest known hosts: [reviews.mesh.internal.com"},
		{"unknown cluster", []string{"explain", "--world", demoWorld, "--cluster", "cluster-9", "--all-gateways", "--host", "reviews.mesh.internal.com"},
			`--cluster "cluster-9" is not in ../../examples/demo/world.yaml (clusters: cluster-1, cluster-2)`},
		{"no host", []string{"explain", "--world", demoWorld, "--cluster", "cluster-1", "--all-gateways"}, `"host" not set`},
		{"no world", []string{"explain", "--cluster", "cluster-1", "--all-gateways", "--host", "x"}, "[world kube server]"},
		{"bad output", append(append([]string(nil), demoReviewsArgs...), "-o", "yaml"), `--output "yaml": want table or json`},
		{"path no route matches", []string{"explain", "--world", demoWorld, "--cluster", "cluster-1", "--all-gateways", "--host", "bookinfo.example.com", "--path", "/nothing"},
			"--path: host bookinfo.example.com: no route matches path /nothing (its routes: path prefix /ratings; path prefix /reviews)"},
		{"path on an east-west proxy", []string{"explain", "--world", demoWorld, "--role", "eastwest", "--cluster", "cluster-2", "--host", "reviews.mesh.internal.com", "--path", "/"},
			"no destination or route serves it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := causeway(t, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want an error containing %q", code, errOut, tc.want)
			}
		})
	}
}

// TestExplainServer runs explain --server against the admin handler over
// HTTP: the answer is the offline one, and errors name the flags.
func TestExplainServer(t *testing.T) {
	world, err := file.Load(demoWorld)
	if err != nil {
		t.Fatal(err)
	}
	store := &model.Store{}
	store.Publish(world)
	// The handler serve's admin listener runs (serve_admin.go).
	srv := httptest.NewServer(admin.NewHandler(admin.Options{World: store.Load}))
	defer srv.Close()

	_, offline, _ := causeway(t, demoReviewsArgs...)
	code, live, errOut := causeway(t, "explain", "--server", srv.URL, "--cluster", "cluster-1", "--all-gateways", "--host", "reviews.mesh.internal.com")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if live != offline {
		t.Errorf("--server answer differs from the offline one:\n%s\nwant:\n%s", live, offline)
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ args, want string }{
		{"--cluster cluster-9 --all-gateways --host reviews.mesh.internal.com", `--cluster: cluster "cluster-9" is not in the world`},
		{"--cluster cluster-1 --all-gateways --host reviews.mesh", "--host: host reviews.mesh: no destination or route serves it; closest known hosts"},
	} {
		code, _, errOut := causeway(t, append([]string{"explain", "--server", addr}, strings.Fields(tc.args)...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
	srv.Close()
	if code, _, errOut := causeway(t, "explain", "--server", addr, "--cluster", "cluster-1", "--all-gateways", "--host", "x"); code == 0 || !strings.Contains(errOut, "--server "+addr) {
		t.Errorf("server gone: exit %d, stderr %q; want an error naming --server", code, errOut)
	}
}
