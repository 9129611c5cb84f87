package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	cases := []struct {
		name    string
		stamped buildInfo
		bi      *debug.BuildInfo
		want    string
	}{
		{"nothing known", buildInfo{Version: "dev"}, nil, "dev (revision unknown, " + runtime.Version() + ")"},
		{"VCS stamp of go build", buildInfo{Version: "dev"}, vcs, "dev (revision abc123-dirty, go1.26.8)"},
		{"ldflags win over the VCS stamp", buildInfo{Version: "v0.2.0", Revision: "def456", BuildDate: "2026-12-01T00:00:00Z"}, vcs,
			"v0.2.0 (revision def456, go1.26.8, built 2026-12-01T00:00:00Z)"},
		{"go install module@version", buildInfo{Version: "dev"}, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}},
			"v0.3.0 (revision unknown, go1.26.8)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolveBuildInfo(tc.stamped, tc.bi, tc.bi != nil).short(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVersionOutputs: causeway version and causeway --version, in process.
func TestVersionOutputs(t *testing.T) {
	bi := currentBuildInfo()
	code, out, _ := causeway(t, "--version")
	if want := "causeway " + bi.short() + "\n"; code != 0 || out != want {
		t.Errorf("--version: exit %d, %q; want %q", code, out, want)
	}
	code, out, _ = causeway(t, "version")
	if want := "causeway " + bi.Version + "\nrevision  " + bi.revisionText() + "\ngo        " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"; code != 0 || out != want {
		t.Errorf("version: exit %d, %q; want %q", code, out, want)
	}
}

// TestVersionStampedBuild builds the binary the ways the Makefile and a
// plain go build do and runs causeway version: -ldflags -X stamps win; a
// git checkout without them still reports its commit.
func TestVersionStampedBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the causeway binary twice; -short skips it")
	}
	dir := t.TempDir()
	build := func(name string, args ...string) string {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-o", bin}, args...), ".")...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
		return bin
	}
	runBin := func(bin string, args ...string) string {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
		}
		return string(out)
	}
	stamped := build("stamped", "-ldflags", "-X main.version=v9.8.7-3-gabcdef -X main.revision=0123abcd -X main.buildDate=2026-12-07T10:00:00Z")
	want := "causeway v9.8.7-3-gabcdef\nrevision  0123abcd\ngo        " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\nbuilt     2026-12-07T10:00:00Z\n"
	if got := runBin(stamped, "version"); got != want {
		t.Errorf("stamped version:\n%s\nwant:\n%s", got, want)
	}
	if got, want := runBin(stamped, "--version"), "causeway v9.8.7-3-gabcdef (revision 0123abcd, "+runtime.Version()+", built 2026-12-07T10:00:00Z)\n"; got != want {
		t.Errorf("stamped --version %q, want %q", got, want)
	}

	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (git rev-parse HEAD: %v): no VCS stamp to check", err)
	}
	top, _ := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree (.git is a file): go build records VCS data only where .git is a directory")
	}
	plain := build("plain", "-buildvcs=true")
	got := runBin(plain, "version")
	// Go 1.24+ also derives a pseudo-version (v0.0.0-<time>-<commit>) from
	// the checkout, which stands in for "dev".
	rev := strings.TrimSpace(string(head))
	// Uncommitted changes add "-dirty" (revision) and "+dirty" (version).
	first, _, _ := strings.Cut(got, "\n")
	first = strings.TrimSuffix(first, "+dirty")
	if !strings.Contains(got, "\nrevision  "+rev) || (first != "causeway dev" && !strings.HasSuffix(first, rev[:12])) {
		t.Errorf("unstamped build from a git checkout:\n%s\nwant the revision %s", got, rev)
	}
}
