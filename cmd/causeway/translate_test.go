package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// causeway runs the CLI in-process and returns its exit code and output.
func causeway(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeWorld(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTranslate(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "testdata/world.yaml", "--role", "gateway", "--cluster", "cluster-1")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"# listeners\n---\nname: gateway_8080\n",
		"# clusters\n---\nname: outbound|9080||reviews.mesh.internal.com\n",
		"# endpoints\n---\ncluster_name: outbound|9080||reviews.mesh.internal.com\n",
		"address: 127.0.2.100", // the remote endpoint became cluster-2's east-west gateway
		"# secrets\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "contents redacted") {
		t.Errorf("secrets printed without --with-secrets:\n%s", out)
	}
}

func TestTranslateTypeAndSecrets(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "testdata/world.yaml", "--cluster", "cluster-1", "--type", "secrets", "--with-secrets")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	want := "# secrets\n---\nname: causeway-identity # contents redacted\n---\nname: causeway-root-ca # contents redacted\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if strings.Contains(out, "redacted\n---\ncertificate") || strings.Contains(out, "inline_bytes") {
		t.Errorf("secret contents leaked:\n%s", out)
	}
}

func TestTranslateEastWest(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "testdata/world.yaml", "--role", "eastwest", "--cluster", "cluster-2",
		"--bind-address", "127.0.2.100", "--type", "listeners")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "name: eastwest_15443") || strings.Contains(out, "# clusters") {
		t.Errorf("want only the east-west listener:\n%s", out)
	}
}

func TestTranslateInvalidWorld(t *testing.T) {
	path := writeWorld(t, "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: cluster-1}\nspec: {eastWestGateways: [{address: not-an-ip}]}\n")
	code, out, errOut := causeway(t, "translate", "--world", path, "--cluster", "cluster-1")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout not empty:\n%s", out)
	}
	if want := `document 1 (Cluster cluster-1): spec.eastWestGateways[0].address: "not-an-ip" is not an IP address`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestTranslateDiagnostics(t *testing.T) {
	world, err := os.ReadFile("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(world), "name: reviews.mesh.internal.com, port: 9080", "name: nowhere.mesh.internal.com, port: 9080", 1)
	if broken == string(world) {
		t.Fatal("fixture changed: backendRef to replace not found")
	}
	code, out, errOut := causeway(t, "translate", "--world", writeWorld(t, broken), "--cluster", "cluster-1")
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "diagnostic: HTTPRoute bookinfo/reviews: spec.rules[0].backendRefs[0]") {
		t.Errorf("stderr lacks the diagnostic:\n%s", errOut)
	}
	if !strings.Contains(out, "# routes\n") {
		t.Errorf("resources not printed alongside diagnostics:\n%s", out)
	}
}

func TestTranslateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster", "cluster-1", "--type", "bogus"}, `--type "bogus"`},
		{[]string{"--cluster", "cluster-9"}, `--cluster "cluster-9" is not in`},
		{[]string{"--cluster", "cluster-1", "--role", "sidecar"}, `role "sidecar"`},
		{[]string{}, `required flag(s) "cluster" not set`},
	} {
		args := append([]string{"translate", "--world", "testdata/world.yaml"}, tc.args...)
		code, _, errOut := causeway(t, args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
