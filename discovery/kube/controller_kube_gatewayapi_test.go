package kube

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/causeway-dev/causeway/model"
)

// TestKubeNamespacesAndTLSSecrets: the management cluster's Namespaces (with
// their labels, following changes) and its kubernetes.io/tls Secrets in
// every namespace reach the model; Secrets of other types do not, an
// oversized one is left out, and no Secret's data ever reaches the log.
func TestKubeNamespacesAndTLSSecrets(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	ctx := testCtx(t)
	mc := env.Cluster("management").Clientset()
	team := uniqueName("team")
	createNamespace(ctx, t, mc, team)

	// Distinct markers, so the log check below can find any of them.
	certPEM := []byte("-----BEGIN CERTIFICATE-----\ncert-" + team + "\n-----END CERTIFICATE-----\n")
	keyPEM := []byte("-----BEGIN PRIVATE KEY-----\nkey-" + team + "-do-not-log\n-----END PRIVATE KEY-----\n")
	opaqueMarker := "opaque-" + team + "-do-not-log"
	bigMarker := "big-" + team + "-do-not-log"
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "web-cert", Annotations: map[string]string{"note": "x"}}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM, "ca.crt": []byte("ca-" + team)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "opaque"}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{corev1.TLSCertKey: []byte(opaqueMarker), corev1.TLSPrivateKeyKey: []byte(opaqueMarker)}},
		// Over MaxObjectBytes (the API server takes up to 1 MiB).
		{ObjectMeta: metav1.ObjectMeta{Name: "huge-cert"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: bytes.Repeat([]byte(bigMarker), (MaxObjectBytes/len(bigMarker))+1), corev1.TLSPrivateKeyKey: []byte(bigMarker)}},
	}
	for _, s := range secrets {
		if _, err := mc.CoreV1().Secrets(team).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create Secret %s: %v", s.Name, err)
		}
	}

	c, store, logs, _ := runKube(t, env, Options{Namespace: team + "-system"})
	waitReady(t, c, 30*time.Second)

	ourSecrets := func(s *model.Snapshot) []model.Secret {
		var out []model.Secret
		for _, sec := range s.Secrets() {
			if sec.Namespace == team {
				out = append(out, sec)
			}
		}
		return out
	}
	wantCert := []model.Secret{{Namespace: team, Name: "web-cert", CertPEM: certPEM, KeyPEM: keyPEM}}
	waitFor(t, 10*time.Second, "TLS Secret in the model", func() error {
		if diff := cmp.Diff(wantCert, ourSecrets(store.Load())); diff != "" {
			return fmt.Errorf("secrets of %s (-want +got):\n%s", team, diff)
		}
		return nil
	})

	// The API server sent only TLS Secrets: the Opaque one is not even
	// in the informer's cache.
	cached, err := c.mgmt.gwAPI.tlsSecrets.Secrets(team).List(k8slabels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cached {
		if !isOversized(s) && s.Type != corev1.SecretTypeTLS {
			t.Errorf("Secret %s/%s of type %s cached", s.Namespace, s.Name, s.Type)
		}
	}
	if len(cached) != 2 { // web-cert and the stand-in of huge-cert
		t.Errorf("%d Secrets cached in %s, want 2", len(cached), team)
	}

	labels := func(want map[string]string) func() error {
		return func() error {
			ns := store.Load().Namespace(team)
			if ns == nil {
				return fmt.Errorf("namespace %s not in the model", team)
			}
			got := map[string]string{}
			for k, v := range ns.Labels {
				if k != corev1.LabelMetadataName {
					got[k] = v
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				return fmt.Errorf("labels of %s (-want +got):\n%s", team, diff)
			}
			return nil
		}
	}
	waitFor(t, 10*time.Second, "namespace without labels", labels(map[string]string{}))
	patch := func(p string) {
		t.Helper()
		if _, err := mc.CoreV1().Namespaces().Patch(ctx, team, types.MergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
			t.Fatalf("patch namespace %s: %v", team, err)
		}
	}
	patch(`{"metadata":{"labels":{"expose":"true"}}}`)
	waitFor(t, 10*time.Second, "label added", labels(map[string]string{"expose": "true"}))
	patch(`{"metadata":{"labels":{"expose":null}}}`)
	waitFor(t, 10*time.Second, "label removed", labels(map[string]string{}))

	// A rotated certificate replaces the old one; a deleted Secret goes.
	rotated := append([]byte(nil), certPEM...)
	rotated = append(rotated, "rotated\n"...)
	sec, err := mc.CoreV1().Secrets(team).Get(ctx, "web-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data[corev1.TLSCertKey] = rotated
	if _, err := mc.CoreV1().Secrets(team).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantCert[0].CertPEM = rotated
	waitFor(t, 10*time.Second, "rotated certificate", func() error {
		if diff := cmp.Diff(wantCert, ourSecrets(store.Load())); diff != "" {
			return fmt.Errorf("(-want +got):\n%s", diff)
		}
		return nil
	})
	if err := mc.CoreV1().Secrets(team).Delete(ctx, "web-cert", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "deleted Secret gone", func() error {
		if got := ourSecrets(store.Load()); len(got) != 0 {
			return fmt.Errorf("still %d secrets in %s", len(got), team)
		}
		return nil
	})

	log := logs.String()
	if logs.count("exceeds the size limit", "huge-cert") == 0 {
		t.Errorf("the oversized Secret was not reported")
	}
	for _, marker := range []string{"key-" + team, "cert-" + team, "ca-" + team, opaqueMarker, bigMarker} {
		if strings.Contains(log, marker) {
			t.Errorf("the log holds Secret data %q", marker)
		}
	}
}
