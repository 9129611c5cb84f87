package model

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCompareJoined: compareJoined agrees with comparing the joined
// string, on strings over characters that sort around "/".
func TestCompareJoined(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	word := func() string {
		const alphabet = "a-/.0"
		var sb strings.Builder
		for range rng.IntN(4) {
			sb.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	sign := func(c int) int { return min(max(c, -1), 1) }
	for range 100000 {
		ns, name := word(), word()
		key := word() + []string{"/", ""}[rng.IntN(2)] + word()
		if rng.IntN(5) == 0 {
			key = ns + "/" + name
		}
		if got, want := sign(compareJoined(ns, name, key)), strings.Compare(ns+"/"+name, key); got != want {
			t.Fatalf("compareJoined(%q, %q, %q) = %d, want %d", ns, name, key, got, want)
		}
	}
}
