package kubeenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFindBinaries needs no servers: it checks what a missing or unusable
// cache directory reports.
func TestFindBinaries(t *testing.T) {
	empty := t.TempDir()
	notExec := t.TempDir()
	good := t.TempDir()
	for _, f := range []struct {
		dir  string
		mode os.FileMode
	}{{notExec, 0o644}, {good, 0o755}} {
		for _, name := range []string{"kube-apiserver", "etcd"} {
			if err := os.WriteFile(filepath.Join(f.dir, name), []byte("#!/bin/sh\n"), f.mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name, dir, wantErr string
	}{
		{"missing", empty, "make kube-bins"},
		{"not executable", notExec, "not an executable"},
		{"present", good, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvBinDir, tc.dir)
			b, err := FindBinaries()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Binaries{APIServer: filepath.Join(tc.dir, "kube-apiserver"), Etcd: filepath.Join(tc.dir, "etcd")}
			if diff := cmp.Diff(want, b); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewRejectsBadNames needs no servers: names become etcd prefixes and
// directory names.
func TestNewRejectsBadNames(t *testing.T) {
	for _, names := range [][]string{nil, {""}, {"a", "a"}, {"a/b"}, {".."}} {
		if _, err := New(t.TempDir(), Binaries{APIServer: "/nonexistent", Etcd: "/nonexistent"}, names...); err == nil ||
			!strings.Contains(err.Error(), "name") {
			t.Errorf("New(%q): got %v, want an error about the names", names, err)
		}
	}
}
