package envoyrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Stats returns Envoy's counters and gauges by name (histograms are left
// out). It asks for JSON and falls back to the plain-text format.
func (e *Envoy) Stats(ctx context.Context) (map[string]uint64, error) {
	body, err := e.Admin(ctx, "/stats?format=json")
	if err != nil {
		return nil, err
	}
	if m, err := parseJSONStats(body); err == nil {
		return m, nil
	}
	body, err = e.Admin(ctx, "/stats")
	if err != nil {
		return nil, err
	}
	return parseTextStats(body)
}

// parseJSONStats reads {"stats":[{"name":..,"value":..}, {"histograms":..}]}.
func parseJSONStats(body []byte) (map[string]uint64, error) {
	var doc struct {
		Stats []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if len(doc.Stats) == 0 {
		return nil, fmt.Errorf("no stats in JSON")
	}
	m := make(map[string]uint64, len(doc.Stats))
	for _, s := range doc.Stats {
		if s.Name == "" || len(s.Value) == 0 {
			continue // histograms entry
		}
		v, err := strconv.ParseUint(strings.Trim(string(s.Value), `"`), 10, 64)
		if err != nil {
			continue // a text-valued stat
		}
		m[s.Name] = v
	}
	return m, nil
}

// parseTextStats reads "name: value" lines, skipping histogram lines.
func parseTextStats(body []byte) (map[string]uint64, error) {
	m := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		m[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("no stats in text output")
	}
	return m, nil
}
