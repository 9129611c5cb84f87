package kubeenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFindBinaries needs no servers: it checks what a missing, partial or
// unusable cache directory reports.
func TestFindBinaries(t *testing.T) {
	servers := []string{"kube-apiserver", "etcd"}
	all := []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "coredns"}
	for _, tc := range []struct {
		name  string
		files []string
		mode  os.FileMode
		// wantFind is a substring of FindBinaries' error, "" for none;
		// wantControllers the same for RequireControllers once found.
		wantFind, wantControllers string
	}{
		{name: "missing", wantFind: "make kube-bins"},
		{name: "not executable", files: servers, mode: 0o644, wantFind: "not an executable"},
		{name: "servers only", files: servers, mode: 0o755, wantControllers: "kube-controller-manager from " + EnvBinDir},
		{name: "all", files: all, mode: 0o755},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv(EnvBinDir, dir)
			b, err := FindBinaries()
			if tc.wantFind != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantFind) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantFind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Binaries{
				APIServer:         filepath.Join(dir, "kube-apiserver"),
				Etcd:              filepath.Join(dir, "etcd"),
				ControllerManager: filepath.Join(dir, "kube-controller-manager"),
				Scheduler:         filepath.Join(dir, "kube-scheduler"),
				CoreDNS:           filepath.Join(dir, "coredns"),
			}
			if diff := cmp.Diff(want, b, cmpopts.IgnoreUnexported(Binaries{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			err = b.RequireControllers()
			if tc.wantControllers == "" {
				if err != nil {
					t.Errorf("RequireControllers: %v", err)
				}
				if err := b.RequireCoreDNS(); err != nil {
					t.Errorf("RequireCoreDNS: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), tc.wantControllers) ||
				!strings.Contains(err.Error(), "make kube-bins") {
				t.Errorf("RequireControllers: got %v, want ErrMissingBinary naming %q and make kube-bins", err, tc.wantControllers)
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
