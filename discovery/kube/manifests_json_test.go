package kube

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlainJSONObject(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":80}]}}` + "\n", true},
		{"{\n  \"a\": [\n    1,\n    -2\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": true,\n  \"e\": null\n}\n", true},
		{`{"a":1,"a":2}`, false},                   // duplicate: the YAML path reports it
		{`{"<<":{"a":1}}`, false},                  // a YAML merge key
		{`{"a":"x\"y"}`, false},                    // escapes
		{`{"a":"tab	"}`, false},                    // control character
		{`{"a":"ü"}`, false},                       // non-ASCII
		{`{"a":1.5}`, false},                       // fraction
		{`{"a":1e3}`, false},                       // exponent
		{`{"a":01}`, false},                        // not JSON
		{`{"a":1234567890123456}`, false},          // too long for certain
		{"{\t\"a\":1}", false},                     // tab
		{`{"a":1} # comment`, false},               // YAML comment
		{`{"a":1}{"b":2}`, false},                  // trailing content
		{`{"a":[1,]}`, false},                      // trailing comma
		{`{"a":yes}`, false},                       // YAML, not JSON
		{"apiVersion: v1\nkind: Service\n", false}, // block YAML
		{` {"a":1}`, false},                        // not at column 0
	} {
		if got := plainJSONObject([]byte(tc.doc)); got != tc.want {
			t.Errorf("plainJSONObject(%q) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}

// TestPlainJSONDecodesAsYAML decodes JSON documents, compact and pretty,
// both ways: straight and through the YAML conversion.
func TestPlainJSONDecodesAsYAML(t *testing.T) {
	docs := []string{
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1","namespace":"bench","labels":{"app":"s1"}},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}],"selector":{"app":"s1"}}}`,
		`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s1","namespace":"bench","labels":{"kubernetes.io/service-name":"s1"}},"addressType":"IPv4","ports":[{"name":"http","port":80,"protocol":"TCP"}],"endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}},{"addresses":["10.0.0.2"],"conditions":{"ready":false},"zone":"z1"}]}`,
		`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r1","namespace":"bench"},"spec":{"parentRefs":[{"name":"http"}],"hostnames":["s1.example.com"],"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/a"}}],"backendRefs":[{"name":"s1","port":80,"weight":-0}]},{"matches":[{"path":{"type":"PathPrefix","value":"/b"},"headers":[{"name":"x-canary","value":"1"}]}],"backendRefs":[{"name":"s1","port":80}],"timeouts":{"request":"10s"}}]}}`,
		`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"topology.kubernetes.io/zone":"z"}}}]}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s2","annotations":{"a":null}},"spec":{"type":"ClusterIP","clusterIP":"None","ports":[]}}`,
	}
	for _, compact := range docs {
		var v interface{}
		if err := json.Unmarshal([]byte(compact), &v); err != nil {
			t.Fatal(err)
		}
		pretty, _ := json.MarshalIndent(v, "", "  ")
		for _, doc := range [][]byte{[]byte(compact + "\n"), append(pretty, '\n')} {
			if !plainJSONObject(doc) {
				t.Fatalf("not plain JSON:\n%s", doc)
			}
			fast := decodeDocument("c1", "", manifestJSON{yaml: doc, json: doc}, nil)
			m, err := toManifestJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			slow := decodeDocument("c1", "", m, nil)
			if anyErrors(fast) || anyErrors(slow) {
				t.Fatalf("errors decoding %s: %+v / %+v", doc, fast, slow)
			}
			if diff := cmp.Diff(slow, fast, cmp.AllowUnexported(decodedObject{})); diff != "" {
				t.Errorf("%s: straight JSON decodes differently (-yaml +json):\n%s", doc, diff)
			}
		}
	}
}

// TestPlainJSONErrorsAsYAML: a JSON document with a problem reports it as
// the YAML path does (it takes that path).
func TestPlainJSONErrorsAsYAML(t *testing.T) {
	dir := t.TempDir()
	docs := []string{
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1"},"spec":{"zeta":1,"alpha":2}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s2"},"spec":{"ports":[{"port":"eighty"}]}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1"}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s3"},"spec":{"ports":[{"port":80}]},"spec":{}}`,
	}
	var yamlDocs []string
	for _, d := range docs {
		// The same documents in block style take the YAML path only.
		var v interface{}
		if err := json.Unmarshal([]byte(d), &v); err != nil && !strings.Contains(d, `"spec":{}`) {
			t.Fatal(err)
		}
		yamlDocs = append(yamlDocs, " "+d) // a leading space: not plainJSONObject
	}
	read := func(name string, docs []string) []string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := NewManifestSet().Add("c1", path)
		if err == nil {
			t.Fatalf("%s: no errors", name)
		}
		return strings.Split(strings.ReplaceAll(err.Error(), path, "FILE"), "\n")
	}
	got, want := read("json.yaml", docs), read("yaml.yaml", yamlDocs)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-yaml path +json documents):\n%s", diff)
	}
	if len(got) < 4 || !bytes.Contains([]byte(strings.Join(got, "\n")), []byte("already set in map")) {
		t.Errorf("errors: %q", got)
	}
}
