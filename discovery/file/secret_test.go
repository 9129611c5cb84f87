package file

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Not real key material: the parser copies bytes; the translator checks them.
const (
	testCertPEM = "-----BEGIN CERTIFICATE-----\nQ0VSVElGSUNBVEU=\n-----END CERTIFICATE-----\n"
	testKeyPEM  = "-----BEGIN PRIVATE KEY-----\nU0VDUkVULUtFWS1NQVRFUklBTA==\n-----END PRIVATE KEY-----\n"
)

func TestParseSecret(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ name, doc string }{
		{"data, as kubectl create secret tls --dry-run=client -o yaml prints it", `apiVersion: v1
kind: Secret
metadata: {creationTimestamp: null, name: shop-cert, namespace: certs}
type: kubernetes.io/tls
data:
  tls.crt: ` + b64(testCertPEM) + `
  tls.key: ` + b64(testKeyPEM) + "\n"},
		{"stringData", "apiVersion: v1\nkind: Secret\nmetadata: {name: shop-cert, namespace: certs}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n" +
			indent(testCertPEM) + "  tls.key: |\n" + indent(testKeyPEM)},
		{"stringData wins over data", `apiVersion: v1
kind: Secret
metadata: {name: shop-cert, namespace: certs}
type: kubernetes.io/tls
data: {tls.crt: ` + b64("old") + `, tls.key: ` + b64(testKeyPEM) + `}
stringData:
  tls.crt: |
` + indent(testCertPEM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := Parse("world.yaml", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			sec := snap.Secret("certs", "shop-cert")
			if sec == nil {
				t.Fatal("Secret certs/shop-cert not in the world")
			}
			if string(sec.CertPEM) != testCertPEM || string(sec.KeyPEM) != testKeyPEM {
				t.Errorf("Secret = cert %q key %q", sec.CertPEM, sec.KeyPEM)
			}
		})
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

// TestParseSecretErrors: every problem names the field, and no message
// quotes what the Secret holds (the key material stands out: it is all
// "SECRET-KEY-MATERIAL" in base64 or plain).
func TestParseSecretErrors(t *testing.T) {
	const leak = "U0VDUkVULUtFWS1NQVRFUklBTA"
	head := "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: certs}\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"opaque", head + "type: Opaque\ndata: {tls.crt: " + leak + "==, tls.key: " + leak + "==}\n",
			`type: want kubernetes.io/tls (the only Secrets Gateways use), got "Opaque"`},
		{"no type", head + "stringData: {tls.crt: SECRET-KEY-MATERIAL, tls.key: SECRET-KEY-MATERIAL}\n", `type: want kubernetes.io/tls`},
		{"bad base64", head + "type: kubernetes.io/tls\ndata: {tls.crt: " + leak + "==, tls.key: '" + leak + "!!'}\n",
			"data[tls.key]: is not valid base64"},
		{"key missing", head + "type: kubernetes.io/tls\ndata: {tls.crt: " + leak + "==}\n",
			"data: tls.key is required in data or stringData"},
		{"data not a map", head + "type: kubernetes.io/tls\ndata: " + leak + "==\n", "data: want a map of key to string"},
		{"value not a string", head + "type: kubernetes.io/tls\nstringData: {tls.crt: [SECRET-KEY-MATERIAL], tls.key: x}\n",
			"stringData[tls.crt]: want a string"},
		{"unknown field", head + "type: kubernetes.io/tls\nstringData: {tls.crt: SECRET-KEY-MATERIAL, tls.key: x}\nspec: {}\n",
			`unknown field "spec"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("world.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), leak) || strings.Contains(err.Error(), "SECRET-KEY-MATERIAL") {
				t.Errorf("error quotes the Secret's contents: %v", err)
			}
		})
	}
}
