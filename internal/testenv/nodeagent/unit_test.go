package nodeagent

import (
	"bytes"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestImageRepository(t *testing.T) {
	for _, tc := range []struct{ image, want string }{
		{"registry.k8s.io/gateway-api/echo-basic:v1.5.1", "registry.k8s.io/gateway-api/echo-basic"},
		{"envoyproxy/envoy:distroless-v1.36.2", "envoyproxy/envoy"},
		{"docker.io/envoyproxy/envoy@sha256:abc", "docker.io/envoyproxy/envoy"},
		{"localhost:5000/app:1@sha256:abc", "localhost:5000/app"},
		{"localhost:5000/app", "localhost:5000/app"},
	} {
		if got := imageRepository(tc.image); got != tc.want {
			t.Errorf("imageRepository(%q) = %q, want %q", tc.image, got, tc.want)
		}
	}
}

func TestContainerArgv(t *testing.T) {
	env := []envVar{{"POD_NAME", "gw-1"}, {"EMPTY", ""}}
	for _, tc := range []struct {
		name    string
		c       corev1.Container
		want    []string
		wantErr string
	}{
		{"args only", corev1.Container{Args: []string{"-c", "/etc/causeway/envoy.yaml", "--service-node", "$(POD_NAME)"}},
			[]string{"/.causeway/bin/envoy", "-c", "/etc/causeway/envoy.yaml", "--service-node", "gw-1"}, ""},
		{"command naming the binary", corev1.Container{Command: []string{"/usr/local/bin/envoy", "--log-level"}, Args: []string{"debug"}},
			[]string{"/.causeway/bin/envoy", "--log-level", "debug"}, ""},
		{"escapes and unknown variables", corev1.Container{Args: []string{"$$(POD_NAME)", "$(NOPE)", "x$(EMPTY)y", "$(unclosed"}},
			[]string{"/.causeway/bin/envoy", "$(POD_NAME)", "$(NOPE)", "xy", "$(unclosed"}, ""},
		{"command naming another program", corev1.Container{Name: "c", Image: "envoyproxy/envoy:v1", Command: []string{"/bin/sh", "-c", "envoy"}},
			nil, `command "/bin/sh": this node agent runs only envoy`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := containerArgv(tc.c, "/opt/bin/envoy", env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlace resolves mount targets against this machine's root, which
// every container root mirrors.
func TestPlace(t *testing.T) {
	for _, tc := range []struct {
		path, target, overlay string
		needs                 string // host path the case relies on
	}{
		{"/root", "/root", "", "/root"},
		{"/etc/secret-volume", "/etc/secret-volume", "/etc", "/etc"},
		{"/etc/causeway/sub/dir", "/etc/causeway/sub/dir", "/etc", "/etc"},
		{"/tmp/anything", "/tmp/anything", "", ""},
		{"/brand-new/dir", "/brand-new/dir", "", ""},
	} {
		if tc.needs != "" {
			if _, err := os.Stat(tc.needs); err != nil {
				t.Logf("skipping %s: no %s here", tc.path, tc.needs)
				continue
			}
		}
		target, overlay := place(tc.path, nil)
		if target != tc.target || overlay != tc.overlay {
			t.Errorf("place(%q) = %q, overlay %q; want %q, overlay %q", tc.path, target, overlay, tc.target, tc.overlay)
		}
	}
	// Inside an earlier mount: created in that volume, no overlay.
	earlier := []placedMount{{target: "/etc/causeway"}}
	if target, overlay := place("/etc/causeway/extra", earlier); target != "/etc/causeway/extra" || overlay != "" {
		t.Errorf("place inside an earlier mount = %q, overlay %q", target, overlay)
	}
}

func TestRenderLogs(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var data bytes.Buffer
	for i, s := range []string{"stdout F one", "stderr F two", "stdout P thr", "stdout F ee", "stdout F four"} {
		data.WriteString(t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano) + " " + s + "\n")
	}
	for _, tc := range []struct {
		name string
		q    map[string][]string
		want string
	}{
		{"all", nil, "one\ntwo\nthree\nfour\n"},
		{"sinceTime", map[string][]string{"sinceTime": {t0.Add(3 * time.Second).Format(time.RFC3339)}}, "ee\nfour\n"},
		{"tailLines", map[string][]string{"tailLines": {"2"}}, "ee\nfour\n"},
		{"limitBytes", map[string][]string{"limitBytes": {"6"}}, "one\ntw"},
		{"stderr", map[string][]string{"stream": {"Stderr"}}, "two\n"},
		{"timestamps", map[string][]string{"tailLines": {"1"}, "timestamps": {"true"}}, t0.Add(4*time.Second).Format(time.RFC3339Nano) + " four\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseLogOptions(tc.q, t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			budget := int64(-1)
			if o.limitBytes > 0 {
				budget = o.limitBytes
			}
			var out bytes.Buffer
			render(&out, data.Bytes(), o, budget)
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	if _, err := parseLogOptions(map[string][]string{"sinceSeconds": {"-1"}}, t0); err == nil {
		t.Error("sinceSeconds -1 accepted")
	}
}

// TestLogCap writes past the cap: the file keeps the newer half, from a
// line start.
func TestLogCap(t *testing.T) {
	l, err := newContainerLog(t.TempDir() + "/0.log")
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	line := strings.Repeat("x", 1000)
	var in bytes.Buffer
	for i := 0; i < maxLogBytes/1000+500; i++ {
		in.WriteString(line + "\n")
	}
	in.WriteString("last line\n")
	l.copyLines("stdout", &in)
	data, err := os.ReadFile(l.path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > maxLogBytes || len(data) < maxLogBytes/2 {
		t.Errorf("log is %d bytes, want between %d and %d", len(data), maxLogBytes/2, maxLogBytes)
	}
	if _, ok := parseLogLine(bytes.SplitN(data, []byte("\n"), 2)[0]); !ok {
		t.Errorf("log does not start at a line: %.80q", data)
	}
	if !bytes.HasSuffix(data, []byte(" stdout F last line\n")) {
		t.Errorf("log lost its newest line: ...%q", data[len(data)-60:])
	}
}

// TestNextFree walks the allocator round a /29: .2 to .6 (.1 is the node,
// .7 broadcast), a freed address coming back only after the others.
func TestNextFree(t *testing.T) {
	nw := &network{prefix: netip.MustParsePrefix("198.18.72.0/29"), used: map[netip.Addr]string{}}
	take := func() string {
		a, ok := nw.nextFree()
		if !ok {
			return "none"
		}
		nw.used[a], nw.last = "ns", a
		return a.String()
	}
	var got []string
	for range 3 {
		got = append(got, take())
	}
	delete(nw.used, netip.MustParseAddr("198.18.72.2"))
	for range 3 {
		got = append(got, take())
	}
	want := []string{"198.18.72.2", "198.18.72.3", "198.18.72.4", "198.18.72.5", "198.18.72.6", "198.18.72.2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allocations (-want +got):\n%s", diff)
	}
	if a := take(); a != "none" {
		t.Errorf("full /29 handed out %s", a)
	}
}

func TestTmpInstallDirs(t *testing.T) {
	got := tmpInstallDirs("/tmp/ci/.venv/bin/envoy", "/tmp/ci/.venv/lib/envoy", "/root/.cache/kube/coredns", "/tmp/b/echo-basic", "/tmp")
	want := []string{"/tmp/b", "/tmp/ci"}
	if !slices.Equal(got, want) {
		t.Errorf("tmpInstallDirs = %v, want %v", got, want)
	}
}
