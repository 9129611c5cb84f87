package netns

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/internal/backend"
)

// This package's subnet (see the allocation in doc.go).
var (
	hostAddr = netip.MustParsePrefix("198.19.254.1/24")
	nsAddrs  = []netip.Prefix{netip.MustParsePrefix("198.19.254.10/24"), netip.MustParsePrefix("198.19.254.11/24")}
)

// TestBackendInNamespace runs two sample backends inside a namespace, on
// its two addresses, calls them from the host through the veth, and checks
// that cleanup removed the processes, the link and the namespace.
func TestBackendInNamespace(t *testing.T) {
	var name, link string
	var pids []int
	t.Run("serve", func(t *testing.T) {
		ns := Create(t, "backend", hostAddr, nsAddrs...)
		name, link = ns.Name, ns.HostLink
		bin := buildSampleBackend(t) // after Create, which skips unprivileged runs
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i, a := range ns.Addrs {
			addr := netip.AddrPortFrom(a.Addr(), 9080).String()
			p, err := ns.Exec(ctx, bin, "--address", addr, "--cluster", "cluster-1",
				"--instance", fmt.Sprintf("reviews-%d", i), "--version", "v1")
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, p.Pid())
			got, err := getWithRetry(ctx, "http://"+addr+"/reviews/1", p)
			if err != nil {
				t.Fatalf("GET %s: %v", addr, err)
			}
			// The backend sees the host end of the veth as its peer: the
			// request really crossed the namespace boundary.
			peer, _, err := net.SplitHostPort(got.Peer)
			if err != nil {
				t.Fatalf("peer %q: %v", got.Peer, err)
			}
			got.Peer = peer
			want := backend.Response{Cluster: "cluster-1", Instance: fmt.Sprintf("reviews-%d", i), Version: "v1",
				Peer: hostAddr.Addr().String(), Path: "/reviews/1"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response from %s (-want +got):\n%s", addr, diff)
			}
		}
	})
	if name == "" {
		return // skipped or failed before creating anything
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			t.Errorf("namespace %s still listed after cleanup", name)
		}
	}
	if out, err := exec.Command("ip", "link", "show", link).CombinedOutput(); err == nil {
		t.Errorf("host link %s still present after cleanup: %s", link, out)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("backend pid %d: signal 0 gave %v, want ESRCH (gone)", pid, err)
		}
	}
	if users, err := SubnetUsers(hostAddr); err != nil || users != "" {
		t.Errorf("subnet %s after cleanup: users %q, err %v; want none", hostAddr.Masked(), users, err)
	}
}

// getWithRetry GETs url until it answers, the process dies, or 100
// attempts (about 10 s) have failed.
func getWithRetry(ctx context.Context, url string, p *Process) (backend.Response, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for i := 0; i < 100; i++ {
		if p.Exited() {
			return backend.Response{}, fmt.Errorf("backend exited (%v):\n%s", p.Err(), p.LogTail(10))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return backend.Response{}, err
		}
		resp, err := client.Do(req)
		if err == nil {
			var r backend.Response
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return r, nil
			}
			err = fmt.Errorf("status %d, decode: %v", resp.StatusCode, err)
		}
		last = err
		select {
		case <-ctx.Done():
			return backend.Response{}, fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return backend.Response{}, last
}

func buildSampleBackend(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sample-backend")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/causeway-dev/causeway/cmd/sample-backend").CombinedOutput()
	if err != nil {
		t.Fatalf("go build sample-backend: %v\n%s", err, out)
	}
	return bin
}

// TestValidate needs no privileges: the checks that run before anything is
// created.
func TestValidate(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name    string
		host    netip.Prefix
		addrs   []netip.Prefix
		wantErr string
	}{
		{"ok", p("198.18.1.1/24"), []netip.Prefix{p("198.18.1.10/24"), p("198.18.1.11/24")}, ""},
		{"no namespace address", p("198.18.1.1/24"), nil, "no namespace address"},
		{"outside subnet", p("198.18.1.1/24"), []netip.Prefix{p("198.18.2.10/24")}, "not in the host subnet 198.18.1.0/24"},
		{"other prefix length", p("198.18.1.1/24"), []netip.Prefix{p("198.18.1.10/25")}, "not in the host subnet"},
		{"same as host", p("198.18.1.1/24"), []netip.Prefix{p("198.18.1.1/24")}, "given twice"},
		{"duplicate", p("198.18.1.1/24"), []netip.Prefix{p("198.18.1.10/24"), p("198.18.1.10/24")}, "given twice"},
		{"network address", p("198.18.1.1/24"), []netip.Prefix{p("198.18.1.0/24")}, "network address"},
		{"invalid host", netip.Prefix{}, []netip.Prefix{p("198.18.1.10/24")}, "invalid host address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(tc.host, tc.addrs)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestHostLinkName checks the name fits IFNAMSIZ for the largest PID and
// sequence number.
func TestHostLinkName(t *testing.T) {
	for _, tc := range []struct {
		pid  int
		n    uint32
		want string
	}{
		{1, 1, "cw00000010001"},
		{4194304, 65535, "cw0400000ffff"},
	} {
		if got := hostLinkName(tc.pid, tc.n); got != tc.want || len(got) > 15 {
			t.Errorf("hostLinkName(%d, %d) = %q, want %q (at most 15 characters)", tc.pid, tc.n, got, tc.want)
		}
	}
}
