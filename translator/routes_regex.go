package translator

import (
	"fmt"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// Regular expressions in HTTPRoutes (path, header and query parameter
// matches) become Envoy safe_regex matchers, which Envoy compiles with RE2.
// Envoy rejects a whole route configuration when one regex does not compile
// or compiles to a program larger than its limit, so every regex is checked
// here first: a bad one costs its own match, never the gateway's routes.

// maxRegexProgramSize is Envoy's default limit on the size of a compiled
// RE2 program (runtime key re2.max_program_size.error_level, 100). Envoy
// 1.37 refuses "/[a-z]{1,50}" (size 104) with it.
const maxRegexProgramSize = 100

// checkRegex reports why Envoy would refuse expr, or nil. Go's
// regexp/syntax implements RE2's syntax, so what it parses RE2 parses too
// (Go is the stricter of the two: it lacks \C). The program size is an
// estimate that is never below RE2's own count (see re2ProgramSize).
func checkRegex(expr string) error {
	if expr == "" {
		return fmt.Errorf("the regular expression is empty")
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if se, ok := err.(*syntax.Error); ok {
		where := ""
		if se.Expr != expr {
			where = fmt.Sprintf(" at %q", se.Expr)
		}
		return fmt.Errorf("invalid regular expression %q: %s%s (RE2 syntax: no lookaround, no backreferences)", expr, se.Code, where)
	}
	if err != nil {
		return fmt.Errorf("invalid regular expression %q: %v", expr, err)
	}
	if size := re2ProgramSize(re); size > maxRegexProgramSize {
		return fmt.Errorf("regular expression %q is too complex: its RE2 program size is about %d, Envoy accepts at most %d",
			expr, size, maxRegexProgramSize)
	}
	return nil
}

// regexOverhead is what RE2 adds to every program (start, match and fail
// instructions): "z" repeated 100 times has size 104 in Envoy.
const regexOverhead = 4

// re2ProgramSize estimates the size RE2 reports for re's program, from
// above: each construct is charged at least what RE2 charges for it,
// measured against Envoy 1.37 (a literal ASCII character 1, a capture 2,
// "." 8, "[^/]" 8, a character class its ranges, UTF-8 sequences for
// non-ASCII ranges). Repeats count as Simplify expands them, as RE2 does.
func re2ProgramSize(re *syntax.Regexp) int {
	return regexOverhead + regexCost(re.Simplify())
}

func regexCost(re *syntax.Regexp) int {
	subs := 0
	for _, s := range re.Sub {
		subs += regexCost(s)
	}
	switch re.Op {
	case syntax.OpNoMatch:
		return 1
	case syntax.OpEmptyMatch:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += runeCost(r, re.Flags&syntax.FoldCase != 0)
		}
		return n
	case syntax.OpCharClass:
		return classCost(re.Rune)
	case syntax.OpAnyCharNotNL:
		return classCost([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune})
	case syntax.OpAnyChar:
		return classCost([]rune{0, unicode.MaxRune})
	case syntax.OpCapture:
		return 2 + subs
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return 1 + subs
	case syntax.OpRepeat: // Simplify leaves none; charged as if expanded
		copies := max(re.Min, re.Max, 1)
		if re.Max == -1 {
			copies = re.Min + 1
		}
		return copies * (subs + 1)
	case syntax.OpAlternate:
		return subs + len(re.Sub) - 1
	default: // OpConcat; empty-width assertions (^, $, \b, ...)
		return max(subs, 1)
	}
}

// runeCost is one literal rune: a byte instruction per UTF-8 byte, twice
// that for a non-ASCII rune matched without case.
func runeCost(r rune, fold bool) int {
	n := utf8.RuneLen(r)
	if n < 0 {
		n = 4
	}
	if fold && r >= utf8.RuneSelf && unicode.SimpleFold(r) != r {
		return 2 * n
	}
	return n
}

// classCost charges a character class (sorted lo, hi pairs): one
// instruction per ASCII range; the non-ASCII part costs 7 when it is all of
// U+0080..U+10FFFF (what "." and negated classes have, measured), otherwise
// n instructions per sequence of n byte ranges that encodes it in UTF-8
// (RE2 shares common suffixes between sequences, so it needs fewer).
func classCost(ranges []rune) int {
	cost := 0
	var upper []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo < utf8.RuneSelf {
			cost++
			lo = utf8.RuneSelf
		}
		if hi >= lo {
			upper = append(upper, lo, hi)
		}
	}
	if len(upper) == 2 && upper[0] == utf8.RuneSelf && upper[1] == unicode.MaxRune {
		return cost + 7
	}
	for i := 0; i+1 < len(upper); i += 2 {
		cost += utf8SequenceBytes(upper[i], upper[i+1])
	}
	return cost
}

// utf8Limits are the largest code points encoded in 1, 2, 3 and 4 bytes.
var utf8Limits = []rune{0x7F, 0x7FF, 0xFFFF, unicode.MaxRune}

// utf8SequenceBytes splits [lo, hi] into sequences of byte ranges, each
// matching a set of code points of one encoded length n (the way RE2 and
// Go's utf8 range splitting do), and returns n summed over them.
func utf8SequenceBytes(lo, hi rune) int {
	if lo > hi {
		return 0
	}
	n := 0
	for i, limit := range utf8Limits {
		if lo <= limit {
			if hi > limit {
				return utf8SequenceBytes(lo, limit) + utf8SequenceBytes(limit+1, hi)
			}
			n = i + 1
			break
		}
	}
	for i := 1; i < n; i++ {
		m := rune(1)<<(6*i) - 1 // the low i continuation bytes
		if lo&^m != hi&^m {
			if lo&m != 0 {
				return utf8SequenceBytes(lo, lo|m) + utf8SequenceBytes((lo|m)+1, hi)
			}
			if hi&m != m {
				return utf8SequenceBytes(lo, (hi&^m)-1) + utf8SequenceBytes(hi&^m, hi)
			}
		}
	}
	return n
}
