package main

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
)

// TestTranslateGatewayCertificates: Gateway certificate secrets are listed
// by name with their contents redacted, unless --with-secrets asks for
// them (then in full, as Envoy gets them).
func TestTranslateGatewayCertificates(t *testing.T) {
	const world = "../../testdata/translator/https-two-certificates-sni/world.yaml"
	w, err := file.Load(world)
	if err != nil {
		t.Fatal(err)
	}
	sec := w.Secret("gloo-system", "a-cert")
	if sec == nil {
		t.Fatal("the world has no Secret gloo-system/a-cert")
	}
	key := base64.StdEncoding.EncodeToString(sec.KeyPEM)
	cert := base64.StdEncoding.EncodeToString(sec.CertPEM)

	code, out, errOut := causeway(t, "translate", "--world", world, "--cluster", "cluster-1", "--all-gateways", "--type", "secrets")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	want := "# secrets\n---\nname: gateway-cert~gloo-system~a-cert # contents redacted\n---\nname: gateway-cert~gloo-system~b-cert # contents redacted\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}

	code, out, errOut = causeway(t, "translate", "--world", world, "--cluster", "cluster-1", "--all-gateways", "--type", "all")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if strings.Contains(out, key[:40]) || strings.Contains(out, cert[:40]) || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("certificate contents printed without --with-secrets:\n%s", out)
	}

	code, out, errOut = causeway(t, "translate", "--world", world, "--cluster", "cluster-1", "--all-gateways", "--type", "secrets", "--with-secrets")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"---\nname: causeway-identity # contents redacted\n",
		"---\nname: gateway-cert~gloo-system~a-cert\ntls_certificate:\n  certificate_chain:\n    inline_bytes: " + cert + "\n  private_key:\n    inline_bytes: " + key + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--with-secrets output lacks %q:\n%s", want, out)
		}
	}
}
