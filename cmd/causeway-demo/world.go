package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v2"
)

// The demo's failover switch edits the world file the control plane
// watches, as an operator (or Kubernetes) marking instances not ready would.

// readiness selects the Service documents whose endpoints setReady flips.
type readiness struct {
	Cluster string
	Labels  map[string]string
}

// setReady sets `ready` on every endpoint of the selected Services and
// returns the new file and how many endpoints it set. Documents it does not
// change are kept byte for byte (comments included); changed ones are
// re-encoded with their key order kept.
func setReady(data []byte, sel readiness, ready bool) ([]byte, int, error) {
	docs := splitDocuments(data)
	n := 0
	for i, doc := range docs {
		var m yaml.MapSlice
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, 0, fmt.Errorf("document %d: %w", i+1, err)
		}
		if !sel.matches(m) {
			continue
		}
		spec, _ := get(m, "spec").(yaml.MapSlice)
		eps, _ := get(spec, "endpoints").([]any)
		for j, ep := range eps {
			epm, ok := ep.(yaml.MapSlice)
			if !ok {
				return nil, 0, fmt.Errorf("document %d: spec.endpoints[%d] is not a mapping", i+1, j)
			}
			eps[j] = set(epm, "ready", ready)
			n++
		}
		out, err := yaml.Marshal(m)
		if err != nil {
			return nil, 0, fmt.Errorf("document %d: %w", i+1, err)
		}
		docs[i] = string(out)
	}
	return []byte(strings.Join(docs, "---\n")), n, nil
}

func (sel readiness) matches(doc yaml.MapSlice) bool {
	if get(doc, "apiVersion") != "world.causeway.dev/v1alpha1" || get(doc, "kind") != "Service" {
		return false
	}
	spec, _ := get(doc, "spec").(yaml.MapSlice)
	if get(spec, "cluster") != sel.Cluster {
		return false
	}
	meta, _ := get(doc, "metadata").(yaml.MapSlice)
	labels, _ := get(meta, "labels").(yaml.MapSlice)
	for k, v := range sel.Labels {
		if get(labels, k) != v {
			return false
		}
	}
	return true
}

func get(m yaml.MapSlice, key string) any {
	for _, it := range m {
		if it.Key == key {
			return it.Value
		}
	}
	return nil
}

// set replaces key's value, or appends the key.
func set(m yaml.MapSlice, key string, v any) yaml.MapSlice {
	for i := range m {
		if m[i].Key == key {
			m[i].Value = v
			return m
		}
	}
	return append(m, yaml.MapItem{Key: key, Value: v})
}

// splitDocuments splits a YAML stream at "---" lines, keeping each
// document's text (with its trailing newline) as it is.
func splitDocuments(data []byte) []string {
	var docs []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		if line := sc.Text(); strings.TrimSpace(line) == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(sc.Text())
		cur.WriteByte('\n')
	}
	return append(docs, cur.String())
}

// setReadyInFile applies setReady to the file at path. It writes a new file
// and renames it over the old one, so the watcher never reads a half-written
// world. Zero endpoints changed is an error: the selection is wrong.
func setReadyInFile(path string, sel readiness, ready bool) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	out, n, err := setReady(data, sel, ready)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("%s: no Service in cluster %s with labels %v has endpoints", path, sel.Cluster, sel.Labels)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".world-*.yaml")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), path)
}
