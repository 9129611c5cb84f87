package yamldoc

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// scannerSplit is how documents were split before Split stopped copying
// every line (the world file's and the manifests' splitters did this): the
// reference Split must agree with.
func scannerSplit(data []byte) []Document {
	var docs []Document
	cur := Document{Line: 1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if isSeparator([]byte(text)) {
			docs = append(docs, cur)
			cur = Document{Line: line + 1}
			continue
		}
		cur.Data = append(cur.Data, text...)
		cur.Data = append(cur.Data, '\n')
	}
	return append(docs, cur)
}

func TestSplitAsScanner(t *testing.T) {
	inputs := []string{
		"", "\n", "---", "---\n", "a: 1", "a: 1\n---\nb: 2\n", "a: 1\n---\nb: 2",
		"--- # comment\na: 1\n---   \nb: 2\n", "---x\n--- x\n ---\n", "a: |\n  ---\n  text\n---\nb: 1\n",
		"a: 1\r\n---\r\nb: 2\r\n", "a: 1\r\r\n---\r\n", "a\rb\n---\n\r", "\n\n---\n\n", "---\n---\n---",
	}
	pieces := []string{"a: 1", "---", "--- # c", "---x", " ---", "\r", "\n", "\n", "\n", "\r\n", "  b: |", "#"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		got, want := Split([]byte(in)), scannerSplit([]byte(in))
		if len(got) != len(want) {
			t.Fatalf("%q: %d documents, want %d", in, len(got), len(want))
		}
		for i := range got {
			if string(got[i].Data) != string(want[i].Data) || got[i].Line != want[i].Line {
				t.Errorf("%q: document %d is %q at line %d, want %q at line %d", in, i, got[i].Data, got[i].Line, want[i].Data, want[i].Line)
			}
		}
	}
}

func TestFileLines(t *testing.T) {
	for _, tc := range []struct {
		msg   string
		first int
		want  string
	}{
		{"yaml: line 3: mapping values are not allowed", 10, "yaml: line 12: mapping values are not allowed"},
		{"error converting YAML to JSON: yaml: line 1: did not find expected key", 1, "error converting YAML to JSON: yaml: line 1: did not find expected key"},
		{"yaml: line 2: a; line 4: b", 5, "yaml: line 6: a; line 8: b"},
		{"no line here", 7, "no line here"},
	} {
		if got := FileLines(tc.msg, tc.first); got != tc.want {
			t.Errorf("FileLines(%q, %d) = %q, want %q", tc.msg, tc.first, got, tc.want)
		}
	}
}
