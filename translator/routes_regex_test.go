package translator

import (
	"regexp/syntax"
	"strings"
	"testing"
)

// TestRE2ProgramSizeBoundsEnvoy pins the estimate against the program sizes
// Envoy 1.37 reported for these expressions (measured by padding each with
// 100 literal characters until Envoy refused it and printed the size): the
// estimate must never be below Envoy's (an expression Envoy refuses would
// take down the whole route configuration) and should stay close to it.
func TestRE2ProgramSizeBoundsEnvoy(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		envoy int
	}{
		{"a", 5}, {"ab", 6}, {"[a-z]", 5}, {"[a-z0-9_-]", 8}, {".", 12}, {".*", 12}, {".+", 13},
		{"a*", 5}, {"a+", 6}, {"a?", 6}, {"(a)", 7}, {"(?:a)", 5}, {"^", 5}, {"$", 4}, {`\d`, 5}, {`\w`, 7},
		{"[^/]", 12}, {"[^/]+", 13}, {"é", 6}, {"(?i)a", 5}, {"(?i)ab", 6}, {"[[:alpha:]]", 5}, {`\pL`, 1200},
		{"a{3}", 7}, {"a{1,3}", 9}, {"[^aceg]", 15}, {`[\x{80}-\x{10FFFF}]`, 10}, {`[\x{80}-\x{7FF}]`, 6},
		{`[\x{800}-\x{FFFF}]`, 9}, {`[\x{10000}-\x{10FFFF}]`, 12}, {`[\x{100}-\x{200}]`, 8}, {"[^é]", 21},
		{`\S`, 14}, {`\W`, 15}, {"[α-ω]", 8}, {"[ace]", 7}, {"(?s).", 11}, {"(a|b)*", 7}, {"(?:ab){2,4}", 14},
		{`\b`, 5}, {"a{0,5}", 14}, {"(a)(b)", 10}, {"(?i)é", 7}, {"(?i)[a-z]", 10}, {`\p{Greek}`, 66},
		{"(?:abc|def|ghi)", 13}, {"(?:foo|bar)+", 11}, {"/api/v[0-9]+/users/[^/]+/orders", 35},
		{"^/reviews/[0-9]+$", 16}, {"/(?P<id>[a-z]+)", 9}, {`[\x{17F}\x{212A}]`, 9},
		{"/" + strings.Repeat("a", 200), 205}, {"/[a-z]{1,50}", 104}, {"/.{1,20}", 184},
	} {
		re, err := syntax.Parse(tc.expr, syntax.Perl)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		got := re2ProgramSize(re)
		if got < tc.envoy {
			t.Errorf("%q: estimate %d is below Envoy's %d", tc.expr, got, tc.envoy)
		}
		if tc.envoy < 100 && got > 2*tc.envoy {
			t.Errorf("%q: estimate %d is far above Envoy's %d", tc.expr, got, tc.envoy)
		}
	}
}

func TestCheckRegex(t *testing.T) {
	for _, tc := range []struct {
		expr    string
		wantErr string // substring; "" for none
	}{
		{"^/reviews/[0-9]+$", ""},
		{"/api/v[0-9]+/users/[^/]+/orders/.*", ""},
		{"/[a-z]{1,5}", ""},
		{"", "empty"},
		{"(unclosed", "missing closing )"},
		{"/(?<=a)b", "invalid regular expression"}, // no lookbehind in RE2
		{`/\1`, "invalid escape"},                  // no backreferences either
		{"/[a-z]{1,50}", "too complex"},            // Envoy: size 104 > 100
		{"/.{1,20}", "too complex"},                // Envoy: size 184
		{`\pL+`, "too complex"},
	} {
		err := checkRegex(tc.expr)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("checkRegex(%q) = %v, want nil", tc.expr, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("checkRegex(%q) = %v, want an error containing %q", tc.expr, err, tc.wantErr)
		}
	}
}
