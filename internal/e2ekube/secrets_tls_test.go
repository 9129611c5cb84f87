package e2ekube

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// worldPublishes counts the worlds the Kubernetes controller published: it
// moves only when the model changed.
const worldPublishes = "causeway_kube_world_publishes_total"

// testTLSSecrets: a kubernetes.io/tls Secret on the management cluster
// reaches the controller (a world is published) when it comes, changes
// and goes; an Opaque Secret never does (the API server filters them out,
// so nothing is rebuilt); and no Secret's data appears in causeway's log,
// which the suite runs at debug level. What the model then holds, field by
// field, is checked by discovery/kube's TestKubeNamespacesAndTLSSecrets
// against a real API server too; a served certificate is the HTTPS tests'.
func (s *suite) testTLSSecrets(t *testing.T) {
	logStart := s.cp.logOffset()
	ns := "bookinfo"
	// The marker is valid base64, so the PEM blocks decode (the API
	// server warns about TLS Secrets whose PEM does not).
	marker := fmt.Sprintf("e2esecrt%016x", time.Now().UnixNano())
	var created []*corev1.Secret // every Secret written, for the log check
	secret := func(name string, typ corev1.SecretType, data string) *corev1.Secret {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: map[string][]byte{
			corev1.TLSCertKey:       []byte("-----BEGIN CERTIFICATE-----\n" + data + "crt0\n-----END CERTIFICATE-----\n"),
			corev1.TLSPrivateKeyKey: []byte("-----BEGIN PRIVATE KEY-----\n" + data + "key0\n-----END PRIVATE KEY-----\n"),
		}}
		created = append(created, sec)
		return sec
	}
	secrets := s.mgmtClient.CoreV1().Secrets(ns)
	call := func(what string, f func(context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		defer cancel()
		if err := f(ctx); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	t.Cleanup(func() {
		for _, name := range []string{"e2e-opaque", "e2e-cert"} {
			ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
			if err := secrets.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete Secret %s/%s: %v", ns, name, err)
			}
			cancel()
		}
	})
	publishes := func() float64 {
		t.Helper()
		v, err := s.cp.metric(worldPublishes)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// awaitPublish waits for a world published after the count was from.
	awaitPublish := func(what string, from float64) float64 {
		t.Helper()
		var got float64
		if err := e2eutil.Eventually(convergeWithin, 100*time.Millisecond, func() error {
			got = publishes()
			if got <= from {
				return fmt.Errorf("%s still %v", worldPublishes, got)
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: no world published: %v", what, err)
		}
		return got
	}
	// quiet: the controller publishes nothing while the test waits out its
	// longest debounce (1 s) twice over.
	quiet := func(what string) float64 {
		t.Helper()
		before := publishes()
		time.Sleep(2 * time.Second)
		if after := publishes(); after != before {
			t.Fatalf("%s: %v worlds published, want none", what, after-before)
		}
		return before
	}

	// settle: the baseline (a cluster just added publishes a few worlds
	// while it syncs) until one quiet window, at most 10.
	s.gw1.await(t, convergeWithin, "baseline", equals(baseline1()...))
	var n float64
	for i := 0; ; i++ {
		before := publishes()
		time.Sleep(2 * time.Second)
		if n = publishes(); n == before {
			break
		}
		if i == 9 {
			t.Fatalf("baseline: worlds still published after %d windows of 2s", i+1)
		}
	}
	call("create Opaque Secret", func(ctx context.Context) error {
		_, err := secrets.Create(ctx, secret("e2e-opaque", corev1.SecretTypeOpaque, marker+"opaq"), metav1.CreateOptions{})
		return err
	})
	if got := quiet("Opaque Secret created"); got != n {
		t.Fatalf("Opaque Secret created: %v worlds published, want none", got-n)
	}

	start := time.Now()
	call("create TLS Secret", func(ctx context.Context) error {
		_, err := secrets.Create(ctx, secret("e2e-cert", corev1.SecretTypeTLS, marker+"tls0"), metav1.CreateOptions{})
		return err
	})
	n = awaitPublish("TLS Secret created", n)
	t.Logf("TLS Secret created: world published %v later", time.Since(start).Round(time.Millisecond))
	n = quiet("after the TLS Secret")

	call("rotate TLS Secret", func(ctx context.Context) error {
		_, err := secrets.Update(ctx, secret("e2e-cert", corev1.SecretTypeTLS, marker+"rot0"), metav1.UpdateOptions{})
		return err
	})
	n = awaitPublish("TLS Secret rotated", n)
	call("delete TLS Secret", func(ctx context.Context) error { return secrets.Delete(ctx, "e2e-cert", metav1.DeleteOptions{}) })
	awaitPublish("TLS Secret deleted", n)

	data, err := os.ReadFile(s.cp.proc.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data[min(logStart, int64(len(data))):])
	var all [][]byte
	for _, sec := range created {
		for _, v := range sec.Data {
			all = append(all, v)
		}
	}
	if form, ok := holdsData(log, append(all, []byte(marker))); ok {
		t.Errorf("causeway's log holds Secret data (%s)", form)
	}
}

// holdsData reports whether log holds one of the Secret values as text,
// as base64 (JSON's form of []byte) or as decimal bytes (fmt's %v of
// []byte), and in which form.
func holdsData(log string, values [][]byte) (string, bool) {
	for _, v := range values {
		dec := fmt.Sprint(v)
		for _, f := range []struct{ name, s string }{
			{"text", strings.TrimSpace(string(v))},
			{"base64", base64.StdEncoding.EncodeToString(v)},
			{"decimal bytes", dec[1 : len(dec)-1]},
		} {
			if strings.Contains(log, f.s) {
				return f.name, true
			}
		}
	}
	return "", false
}
