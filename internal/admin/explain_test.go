package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

func demoWorld(t *testing.T) *model.Snapshot {
	t.Helper()
	w, err := file.Load("../../examples/demo/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestExplainHandler serves a snapshot over HTTP and checks answers and
// errors: the explanation is translator.Explain's for the same proxy
// (which, without locality parameters, is in its cluster's locality).
func TestExplainHandler(t *testing.T) {
	world := demoWorld(t)
	current := world
	srv := httptest.NewServer(ExplainHandler(func() *model.Snapshot { return current }))
	defer srv.Close()

	p := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Gateway: model.AllGateways}
	q := translator.ExplainQuery{Host: "reviews.mesh.internal.com"}
	placed := p
	placed.Locality = world.Cluster("cluster-1").Locality
	want, err := translator.Explain(world, placed, q)
	if err != nil {
		t.Fatal(err)
	}
	var got translator.Explanation
	if code := get(t, srv.URL+ExplainPath+"?"+ExplainValues(p, q).Encode(), &got); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("answer differs from translator.Explain:\n%+v\nwant\n%+v", got, *want)
	}

	for _, tc := range []struct {
		name, query string
		code        int
		param       string
		closest     bool
	}{
		{"no cluster", "host=reviews.mesh.internal.com", http.StatusBadRequest, ParamCluster, false},
		{"no host", "cluster=cluster-1", http.StatusBadRequest, ParamHost, false},
		{"bad port", "cluster=cluster-1&host=a&port=http", http.StatusBadRequest, ParamPort, false},
		{"unknown cluster", "cluster=cluster-9&host=reviews.mesh.internal.com", http.StatusNotFound, ParamCluster, false},
		{"unknown host", "cluster=cluster-1&host=reviews.mesh", http.StatusNotFound, ParamHost, true},
		{"bad role", "cluster=cluster-1&host=a&role=ingress", http.StatusBadRequest, ParamRole, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e ExplainError
			if code := get(t, srv.URL+ExplainPath+"?"+tc.query, &e); code != tc.code || e.Param != tc.param || e.Error == "" || (len(e.Closest) > 0) != tc.closest {
				t.Errorf("status %d, %+v; want %d, param %q, closest hosts %v", code, e, tc.code, tc.param, tc.closest)
			}
		})
	}

	resp, err := http.Post(srv.URL+ExplainPath, "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", resp.StatusCode)
	}
	current = nil
	var e ExplainError
	if code := get(t, srv.URL+ExplainPath+"?"+ExplainValues(p, q).Encode(), &e); code != http.StatusServiceUnavailable {
		t.Errorf("no world: status %d, want 503", code)
	}
}

// TestExplainValuesRoundTrip checks that parseExplain reads back what
// ExplainValues writes.
func TestExplainValuesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		p model.Proxy
		q translator.ExplainQuery
	}{
		{model.Proxy{Role: model.RoleGateway, Cluster: "c", Gateway: "ns/gw", BindAddress: "127.0.0.1", Locality: model.Locality{Region: "r", Zone: "z", Subzone: "s"}},
			translator.ExplainQuery{Host: "h", Port: 8080, Path: "/a?b=c"}},
		{model.Proxy{Role: model.RoleEastWest, Cluster: "c"}, translator.ExplainQuery{Host: "h"}},
		{model.Proxy{Role: model.RoleClient, Cluster: "c", BindAddress: "10.0.0.5", Namespace: "shop"}, translator.ExplainQuery{Host: "app.global", Port: 8080}},
	} {
		v, err := url.ParseQuery(ExplainValues(tc.p, tc.q).Encode())
		if err != nil {
			t.Fatal(err)
		}
		p, q, perr := parseExplain(v)
		if perr != nil || p != tc.p || q != tc.q {
			t.Errorf("round trip of %+v %+v: %+v %+v %v", tc.p, tc.q, p, q, perr)
		}
	}
}

func get(t *testing.T, u string, into any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}
