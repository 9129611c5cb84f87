package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestManifestsTLSSecrets: causeway translate --kube reads kubernetes.io/tls
// Secrets (data or stringData, as kubectl writes them) and keeps only the
// certificate and key, as the informer does; other Secrets are skipped, and
// a decoding error does not quote the Secret's data.
func TestManifestsTLSSecrets(t *testing.T) {
	dir := writeManifests(t, map[string]string{"secrets.yaml": `apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata: {name: shop-cert, labels: {team: shop}}
data: {tls.crt: Q0VSVA==, tls.key: S0VZ, ca.crt: Q0E=}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata: {name: api-cert, namespace: certs}
data: {tls.crt: b2xk}
stringData: {tls.crt: NEW, tls.key: KEY2}
---
apiVersion: v1
kind: Secret
type: Opaque
metadata: {name: password}
data: {password: aHVudGVyMg==}
`})
	set := NewManifestSet()
	if err := set.Add("cluster-1", dir); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, s := range set.Config.TLSSecrets {
		data := map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		if len(s.Labels) > 0 || s.StringData != nil {
			t.Errorf("Secret %s/%s keeps labels or stringData", s.Namespace, s.Name)
		}
		got[s.Namespace+"/"+s.Name] = data
	}
	want := map[string]map[string]string{
		"default/shop-cert": {"tls.crt": "CERT", "tls.key": "KEY"},
		"certs/api-cert":    {"tls.crt": "NEW", "tls.key": "KEY2"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("TLS Secrets from manifests (-want +got):\n%s", d)
	}

	bad := writeManifests(t, map[string]string{"bad.yaml": "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: x}\ndata: {tls.key: 'c2VjcmV0LWtleQ==!!'}\n"})
	err := NewManifestSet().Add("cluster-1", bad)
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0LWtleQ") || !strings.Contains(err.Error(), "Secret default/x") {
		t.Errorf("bad base64: err = %v, want an error naming the Secret without its data", err)
	}
}
