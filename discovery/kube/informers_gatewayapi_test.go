package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/model"
)

func TestTransformNamespaceKeepsNameAndLabels(t *testing.T) {
	in := &corev1.Namespace{
		ObjectMeta: fatMeta("", "team-a"),
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive, Conditions: []corev1.NamespaceCondition{{Type: "X"}}},
	}
	in.Finalizers = []string{"example.com/f"}
	got, err := transformNamespace(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", ResourceVersion: "7", Generation: 3, Labels: map[string]string{"app": "reviews"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTransformTLSSecretKeepsOnlyCertAndKey(t *testing.T) {
	in := &corev1.Secret{
		ObjectMeta: fatMeta("web", "cert"),
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       []byte("CERT"),
			corev1.TLSPrivateKeyKey: []byte("KEY"),
			"ca.crt":                []byte("CA"),
			"extra":                 []byte("x"),
		},
		StringData: map[string]string{"more": "y"},
	}
	got, err := transformTLSSecret(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "cert", ResourceVersion: "7", Generation: 3},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: []byte("CERT"), corev1.TLSPrivateKeyKey: []byte("KEY")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Idempotent: client-go may run a transform on an object it already
	// transformed.
	again, _ := transformTLSSecret(got)
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
}

func TestBuildWorldNamespacesAndTLSSecrets(t *testing.T) {
	cfg := &ConfigObjects{
		Namespaces: []*corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"team": "a"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "team-b"}},
		},
		TLSSecrets: []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "cert"}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{corev1.TLSCertKey: []byte("CERT"), corev1.TLSPrivateKeyKey: []byte("KEY")}},
			// Only TLS Secrets are listed; one of another type that got
			// through anyway (a manifest, a fake client) is not a certificate.
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "opaque"}, Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{corev1.TLSCertKey: []byte("C"), corev1.TLSPrivateKeyKey: []byte("K")}},
		},
	}
	w, errs := BuildWorld(nil, nil, cfg)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if diff := cmp.Diff([]model.Namespace{{Name: "team-a", Labels: map[string]string{"team": "a"}}, {Name: "team-b"}}, w.Namespaces); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]model.Secret{{Namespace: "web", Name: "cert", CertPEM: []byte("CERT"), KeyPEM: []byte("KEY")}}, w.Secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

// TestWorldCacheFollowsNamespaceLabels: the incremental builder sees a
// Namespace whose labels changed (the informer replaces the object) as a
// change, and reuses the conversion when nothing changed.
func TestWorldCacheFollowsNamespaceLabels(t *testing.T) {
	var wc worldCache
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	cfg := &ConfigObjects{Namespaces: []*corev1.Namespace{ns}}
	if _, _, changed := wc.build(nil, nil, cfg); !changed {
		t.Fatal("first build: not changed")
	}
	if _, _, changed := wc.build(nil, nil, &ConfigObjects{Namespaces: []*corev1.Namespace{ns}}); changed {
		t.Error("same objects: changed")
	}
	labelled := ns.DeepCopy()
	labelled.Labels = map[string]string{"team": "a"}
	w, _, changed := wc.build(nil, nil, &ConfigObjects{Namespaces: []*corev1.Namespace{labelled}})
	if !changed {
		t.Error("label added: not changed")
	}
	if len(w.Namespaces) != 1 || w.Namespaces[0].Labels["team"] != "a" {
		t.Errorf("namespaces %+v, want team-a labelled team=a", w.Namespaces)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "cert"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("C2")}}
	w, _, changed = wc.build(nil, nil, &ConfigObjects{Namespaces: []*corev1.Namespace{labelled}, TLSSecrets: []*corev1.Secret{sec}})
	if !changed || len(w.Secrets) != 1 || string(w.Secrets[0].CertPEM) != "C2" {
		t.Errorf("secret added: changed %v, secrets %+v", changed, w.Secrets)
	}
}
