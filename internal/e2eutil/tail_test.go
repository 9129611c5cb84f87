package e2eutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "c"}, {2, "b\nc"}, {5, "a\nb\nc"}} {
		if got := FileTail(path, tc.n); got != tc.want {
			t.Errorf("FileTail(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := FileTail(filepath.Join(t.TempDir(), "missing"), 3); !strings.HasPrefix(got, "(cannot read ") {
		t.Errorf("FileTail of a missing file = %q, want a note", got)
	}
}

func TestIndentAndGrep(t *testing.T) {
	if got, want := Indent("a\nb\n"), "  a\n  b"; got != want {
		t.Errorf("Indent = %q, want %q", got, want)
	}
	if got, want := GrepLines("outbound|1\ninbound|2\noutbound|3", "outbound|"), "outbound|1\noutbound|3"; got != want {
		t.Errorf("GrepLines = %q, want %q", got, want)
	}
}
