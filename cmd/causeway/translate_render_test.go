package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// renderReference is the renderer before streaming (whole output in
// memory, every resource through toYAML): what writeResources must
// reproduce byte for byte.
func renderReference(res *translator.Resources, typ string, withSecrets bool) ([]byte, error) {
	groups := map[string][]proto.Message{}
	for _, r := range res.Listeners {
		groups["listeners"] = append(groups["listeners"], r)
	}
	for _, r := range res.Routes {
		groups["routes"] = append(groups["routes"], r)
	}
	for _, r := range res.Clusters {
		groups["clusters"] = append(groups["clusters"], r)
	}
	for _, r := range res.Endpoints {
		groups["endpoints"] = append(groups["endpoints"], r)
	}
	var buf bytes.Buffer
	for _, t := range resourceTypes {
		if typ != "all" && typ != t {
			continue
		}
		fmt.Fprintf(&buf, "# %s\n", t)
		if t == "secrets" {
			for _, s := range res.Secrets {
				if !withSecrets || !translator.IsGatewayCertificateSecret(s.GetName()) {
					fmt.Fprintf(&buf, "---\nname: %s # contents redacted\n", s.GetName())
					continue
				}
				y, err := toYAML(s)
				if err != nil {
					return nil, err
				}
				buf.WriteString("---\n")
				buf.Write(y)
			}
			continue
		}
		for _, m := range groups[t] {
			y, err := toYAML(m)
			if err != nil {
				return nil, err
			}
			buf.WriteString("---\n")
			buf.Write(y)
		}
	}
	return buf.Bytes(), nil
}

// renderCredentials make every kind of secret appear.
var renderCredentials = translator.Credentials{
	CertChainPEM: []byte("redacted"), PrivateKeyPEM: []byte("redacted"), RootCAPEM: []byte("redacted"),
	SpiffeID:    "spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway",
	TrustDomain: "causeway.local",
}

// goldenTranslations translates every translator golden case for its
// proxy: the widest set of resources the translator makes.
func goldenTranslations(t *testing.T) map[string]*translator.Resources {
	t.Helper()
	dirs, err := filepath.Glob("../../testdata/translator/*/world.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden worlds: %v", err)
	}
	out := map[string]*translator.Resources{}
	for _, w := range dirs {
		dir := filepath.Dir(w)
		world, err := file.Load(w)
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "proxy.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var pf struct {
			Role        model.Role     `json:"role"`
			Cluster     string         `json:"cluster"`
			Locality    model.Locality `json:"locality"`
			BindAddress string         `json:"bindAddress"`
			Gateway     string         `json:"gateway"`
		}
		if err := yaml.Unmarshal(data, &pf); err != nil {
			t.Fatalf("%s/proxy.yaml: %v", dir, err)
		}
		p := model.Proxy{Role: pf.Role, Cluster: pf.Cluster, Locality: pf.Locality, BindAddress: pf.BindAddress, Gateway: pf.Gateway}
		if p.Role == model.RoleGateway && p.Gateway == "" {
			p.Gateway = model.AllGateways
		}
		out[filepath.Base(dir)] = translator.Translate(world, p, renderCredentials)
	}
	return out
}

// TestAppendYAMLMatchesToYAML renders every resource of every translator
// golden case both ways.
func TestAppendYAMLMatchesToYAML(t *testing.T) {
	n, slow := 0, 0
	for name, res := range goldenTranslations(t) {
		for _, typ := range resourceTypes {
			msgs, _ := resourcesOfType(res, typ)
			for i, m := range msgs {
				n++
				compareYAML(t, fmt.Sprintf("%s %s[%d]", name, typ, i), m)
				if fastYAMLFails(m) {
					slow++
				}
			}
		}
	}
	t.Logf("%d resources, %d through yaml.v2", n, slow)
	if slow*10 > n {
		t.Errorf("%d of %d resources needed the yaml.v2 round trip, want at most a tenth", slow, n)
	}
}

// TestAppendYAMLScalars covers scalars yaml.v2 quotes, folds or spreads
// over lines, in keys and values at several depths.
func TestAppendYAMLScalars(t *testing.T) {
	values := []string{
		"", "y", "yes", "No", "on", "OFF", "true", "False", "null", "~", "<<", ".inf", ".NaN",
		"1", "-1", "0x1F", "1_000", "1.5", "1e3", "1:20", "10.0.0.1", "10.0.0.1:80", "1.2", "2001-12-14",
		"plain-name", "outbound|80||s1.mesh.internal", "a:", "a:b", "a: b", "a #b", "#a", "-a", "- a", "?a", "[a]",
		"{a}", "a,b", "*a", "&a", "!a", "%a", "@a", "`a", "'a'", "\"a\"", "a'b", "a\"b", " lead", "trail ",
		"tab\there", "line\nbreak", "trailing newline\n", "ünïcödé", "emoji 😀", "\x01ctl", "back\\slash",
		"short words only", strings.Repeat("word ", 30), strings.Repeat("x", 200), strings.Repeat("y", 75) + " z",
		"/path/with spaces/and:colons", "<html>&amp;</html>", "\u2028sep",
	}
	fields := map[string]*structpb.Value{}
	var list []*structpb.Value
	for i, v := range values {
		fields[fmt.Sprintf("k%02d", i)] = structpb.NewStringValue(v)
		list = append(list, structpb.NewStringValue(v))
		if v != "" && !strings.ContainsAny(v, "\n") {
			fields[v] = structpb.NewNumberValue(float64(i))
		}
	}
	numbers := []float64{0, 1, -1, 0.5, 1e6, 1e21, 1.5e-7, 123456789, 3.14159, -0.25}
	for i, f := range numbers {
		fields[fmt.Sprintf("n%02d", i)] = structpb.NewNumberValue(f)
	}
	fields["bool"] = structpb.NewBoolValue(true)
	fields["nil"] = structpb.NewNullValue()
	fields["list"] = structpb.NewListValue(&structpb.ListValue{Values: list})
	fields["empty-list"] = structpb.NewListValue(&structpb.ListValue{})
	fields["empty-map"] = structpb.NewStructValue(&structpb.Struct{})
	fields["nested"] = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
		structpb.NewListValue(&structpb.ListValue{Values: list[:3]}),
		structpb.NewListValue(&structpb.ListValue{}),
		structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"a": list[5], "b": structpb.NewListValue(&structpb.ListValue{Values: list[:2]})}}),
	}})
	meta := &structpb.Struct{Fields: fields}
	deep := &structpb.Struct{Fields: map[string]*structpb.Value{"d1": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"d2": structpb.NewStructValue(meta)}})}}
	// One resource with every value (mostly yaml.v2's), and one per value
	// (the emitter's own when the value allows it).
	compareYAML(t, "every value", routeWithValue("*", meta, deep))
	for i, v := range values {
		one := &structpb.Struct{Fields: map[string]*structpb.Value{
			"k": structpb.NewStringValue(v), "list": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue(v)}}),
			"nested": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue(v)}})}}),
		}}
		if v != "" {
			one.Fields[v] = structpb.NewNumberValue(float64(i))
		}
		compareYAML(t, fmt.Sprintf("value %d %q", i, v), routeWithValue(v, one, &structpb.Struct{Fields: map[string]*structpb.Value{"d1": structpb.NewStructValue(one)}}))
	}
}

// routeWithValue is a route configuration with v as a domain and a direct
// response body, and the metadata given.
func routeWithValue(v string, meta, deep *structpb.Struct) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{
		Name: "vh", Domains: []string{v, "*"},
		Routes: []*routev3.Route{{
			Match:    &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action:   &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: v}}}},
			Metadata: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"f": meta, "deep": deep}},
		}},
	}}}
}

// fastYAMLFails reports whether appendYAML falls back to toYAML for m.
func fastYAMLFails(m proto.Message) bool {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return true
	}
	e := yamlEmitter{in: js}
	return e.document() != nil
}

func compareYAML(t *testing.T, what string, m proto.Message) {
	t.Helper()
	want, werr := toYAML(m)
	got, err := appendYAML([]byte("prefix\n"), m)
	if werr != nil || err != nil {
		// A resource yaml.v2 cannot read back fails both ways alike.
		if werr == nil || err == nil || err.Error() != werr.Error() {
			t.Errorf("%s: appendYAML error %v, toYAML error %v", what, err, werr)
		}
		return
	}
	if !bytes.Equal(got, append([]byte("prefix\n"), want...)) {
		t.Errorf("%s: appendYAML differs from toYAML:\n%s", what, firstDifference(string(got[len("prefix\n"):]), string(want)))
	}
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return "same lines"
}

// TestWriteResourcesMatchesReference compares the streaming output with
// the reference renderer for every --type and --with-secrets, on
// generated manifests (the bench input) and the example worlds, with one
// and several CPUs.
func TestWriteResourcesMatchesReference(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster-1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeBenchManifests(t, dir, 300, 10)
	generated, invalid, err := loadManifests([]string{"cluster-1=" + dir}, "")
	if err != nil || len(invalid) > 0 {
		t.Fatalf("generated manifests: %v %v", err, invalid)
	}
	worlds := map[string]*model.Snapshot{"generated": generated.WithControllerName(model.DefaultControllerName)}
	for _, path := range []string{"../../examples/demo/world.yaml", "../../examples/docker-compose/world.yaml"} {
		w, err := file.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		worlds[path] = w
	}
	type proxyCase struct {
		world string
		proxy model.Proxy
	}
	var cases []proxyCase
	cases = append(cases, proxyCase{"generated", model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Gateway: "gw/http"}})
	for _, w := range []string{"../../examples/demo/world.yaml", "../../examples/docker-compose/world.yaml"} {
		for _, c := range worlds[w].Clusters() {
			cases = append(cases,
				proxyCase{w, model.Proxy{Role: model.RoleGateway, Cluster: c.Name, Gateway: model.AllGateways, Locality: c.Locality}},
				proxyCase{w, model.Proxy{Role: model.RoleEastWest, Cluster: c.Name, Locality: c.Locality}})
		}
	}
	for _, c := range cases {
		for _, withSecrets := range []bool{false, true} {
			creds := translator.Credentials{TrustDomain: "causeway.local"}
			if withSecrets {
				creds = renderCredentials
			}
			for _, typ := range append([]string{"all"}, resourceTypes...) {
				want, err := renderReference(translator.Translate(worlds[c.world], c.proxy, creds), typ, withSecrets)
				if err != nil {
					t.Fatal(err)
				}
				for _, procs := range []int{1, 4} {
					res := translator.Translate(worlds[c.world], c.proxy, creds) // writeResources consumes it
					prev := runtime.GOMAXPROCS(procs)
					var got bytes.Buffer
					err := writeResources(&got, res, typ, withSecrets)
					runtime.GOMAXPROCS(prev)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Bytes(), want) {
						t.Errorf("%s %s/%s --type %s --with-secrets=%v GOMAXPROCS=%d: output differs:\n%s",
							c.world, c.proxy.Role, c.proxy.Cluster, typ, withSecrets, procs, firstDifference(got.String(), string(want)))
					}
				}
			}
		}
	}
}
