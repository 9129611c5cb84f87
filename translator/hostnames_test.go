package translator

import (
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"testing"
)

// hostnamePattern is the Gateway API hostname pattern validHostname
// implements by hand.
var hostnamePattern = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func validHostnameByPattern(h string) bool {
	return len(h) <= 253 && hostnamePattern.MatchString(h) && net.ParseIP(h) == nil
}

// TestValidHostnameMatchesPattern: the hand-written check accepts exactly
// what the pattern accepts, on edge cases and on many random strings over
// the characters that matter (so that valid names are common too).
func TestValidHostnameMatchesPattern(t *testing.T) {
	cases := []string{
		"", "*", "*.", ".", "a", "a.", ".a", "a..b", "-a", "a-", "a-b", "a.-b", "a.b-", "*.a", "*.*.a", "a.*.b",
		"*a", "**.a", "*.-a", "1.2.3.4", "*.1.2.3.4", "::1", "a_b", "A.b", "xn--bcher-kva.example", "0", "0-0",
		strings.Repeat("a", 253), strings.Repeat("a", 254), "*." + strings.Repeat("a", 251), "*." + strings.Repeat("a", 252),
		strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127),
	}
	rng := rand.New(rand.NewPCG(1, 14))
	const alphabet = "ab09-.*:_A"
	for range 200000 {
		n := rng.IntN(14)
		var sb strings.Builder
		if rng.IntN(4) == 0 {
			sb.WriteString("*.")
		}
		for range n {
			sb.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, sb.String())
	}
	accepted := 0
	for _, h := range cases {
		want := validHostnameByPattern(h)
		if got := validHostname(h); got != want {
			t.Fatalf("validHostname(%q) = %v, the pattern says %v", h, got, want)
		}
		// preciseHostname's check: the pattern without the wildcard.
		if got, want := hostnameLabelsValid(h), !strings.HasPrefix(h, "*") && hostnamePattern.MatchString(h); got != want {
			t.Fatalf("hostnameLabelsValid(%q) = %v, the pattern says %v", h, got, want)
		}
		if want {
			accepted++
		}
	}
	if accepted < len(cases)/20 {
		t.Fatalf("only %d of %d cases are valid hostnames: the test does not exercise acceptance", accepted, len(cases))
	}
}
