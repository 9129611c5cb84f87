package conformance

import (
	"strings"
	"testing"
)

// TestSkipListFile loads the real skip list: it must parse and name only
// tests the suite has.
func TestSkipListFile(t *testing.T) {
	l, err := loadSkipList(skipListFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d tests skipped", skipListFile, len(l.Skips))
}

func TestParseSkipList(t *testing.T) {
	known := map[string]bool{"HTTPRouteA": true, "HTTPRouteB": true}
	for _, tc := range []struct {
		name, yaml string
		want       []string
		wantErr    string
	}{
		{"empty", "skips: []\n", nil, ""},
		{"two", "skips:\n- {test: HTTPRouteA, reason: x}\n- {test: HTTPRouteB, reason: y}\n", []string{"HTTPRouteA", "HTTPRouteB"}, ""},
		{"unknown key", "skips:\n- {test: HTTPRouteA, reason: x, until: never}\n", nil, `unknown field "until"`},
		{"unknown top-level key", "skip: []\n", nil, `unknown field "skip"`},
		{"empty reason", "skips:\n- {test: HTTPRouteA, reason: '  '}\n", nil, "skips[0] (HTTPRouteA): reason is empty"},
		{"missing reason", "skips:\n- {test: HTTPRouteA}\n", nil, "reason is empty"},
		{"no test", "skips:\n- {reason: x}\n", nil, "skips[0]: test is empty"},
		{"not a suite test", "skips:\n- {test: HTTPRouteC, reason: x}\n", nil, `"HTTPRouteC" is not a test`},
		{"duplicate", "skips:\n- {test: HTTPRouteA, reason: x}\n- {test: HTTPRouteA, reason: y}\n", nil, "skips[1]: test \"HTTPRouteA\" is listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := parseSkipList("skip.yaml", []byte(tc.yaml), known)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(l.Names(), ","); got != strings.Join(tc.want, ",") {
				t.Errorf("names %q, want %q", got, tc.want)
			}
		})
	}
}
