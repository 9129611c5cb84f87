package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// TestServeCAKubeRecord runs against a real API server: serve records its
// root in the ConfigMap causeway-ca-root; a replica with an empty (or
// another) --ca-dir then refuses to start, naming the ConfigMap and
// --ca-allow-new-root; the override replaces the record.
func TestServeCAKubeRecord(t *testing.T) {
	env := kubeenv.Start(t, "management")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := env.Cluster("management").Clientset()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "causeway-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m := &kubeMode{caRecord: caRootRecord{client: cs, namespace: "causeway-system"}}
	flags := func(dir string, allowNew bool) *serveFlags {
		return &serveFlags{caDir: dir, trustDomain: "causeway.local", ca: caFlags{allowNewRoot: allowNew}}
	}
	recordedFP := func() string {
		cm, err := cs.CoreV1().ConfigMaps("causeway-system").Get(ctx, caRootConfigMap, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap %s: %v", caRootConfigMap, err)
		}
		fp, err := recordFingerprint(cm)
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[caRootConfigMapFP] != fp {
			t.Errorf("ConfigMap key %s = %q, want the root's fingerprint %s", caRootConfigMapFP, cm.Data[caRootConfigMapFP], fp)
		}
		return fp
	}

	dirA := filepath.Join(t.TempDir(), "a")
	a, err := loadServeCA(ctx, flags(dirA, false), m, discardLog)
	if err != nil {
		t.Fatalf("first start (no record anywhere): %v", err)
	}
	if got := recordedFP(); got != a.RootFingerprint() {
		t.Errorf("recorded root %s, want the one serve created, %s", got, a.RootFingerprint())
	}
	if _, err := loadServeCA(ctx, flags(dirA, false), m, discardLog); err != nil {
		t.Errorf("restart with the recorded root: %v", err)
	}

	for _, tc := range []struct{ name, dir string }{
		{"empty --ca-dir", filepath.Join(t.TempDir(), "empty")},
		{"another root's --ca-dir", func() string {
			d := filepath.Join(t.TempDir(), "other")
			if _, err := (caFlags{}).loadCA(d, "causeway.local", discardLog); err != nil {
				t.Fatal(err)
			}
			return d
		}()},
	} {
		_, err := loadServeCA(ctx, flags(tc.dir, false), m, discardLog)
		for _, want := range []string{"ConfigMap causeway-system/causeway-ca-root", a.RootFingerprint(), "--ca-allow-new-root", tc.dir} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: err = %v, want a refusal naming %q", tc.name, err, want)
			}
		}
	}
	if got := recordedFP(); got != a.RootFingerprint() {
		t.Errorf("a refused start changed the record to %s", got)
	}

	b, err := loadServeCA(ctx, flags(filepath.Join(t.TempDir(), "b"), true), m, discardLog)
	if err != nil {
		t.Fatalf("--ca-allow-new-root: %v", err)
	}
	if got := recordedFP(); got != b.RootFingerprint() {
		t.Errorf("after --ca-allow-new-root the record is %s, want the new root %s", got, b.RootFingerprint())
	}
}
