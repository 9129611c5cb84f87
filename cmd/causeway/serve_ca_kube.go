package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/ca"
)

// In Kubernetes mode serve records the CA root it signs with (the public
// certificate only, like Istio's istio-ca-root-cert) in a ConfigMap in
// --namespace on the management cluster. It outlives any --ca-dir: a
// replica started with an empty or wrong --ca-dir (an emptyDir, another
// Secret) finds the record and refuses to create or use another root.
const (
	caRootConfigMap    = "causeway-ca-root"
	caRootConfigMapPEM = "root.pem"
	caRootConfigMapFP  = "sha256"
)

// kubeCARecordTimeout bounds each API call of the record.
const kubeCARecordTimeout = 15 * time.Second

// caRootRecord reads and writes the root record in namespace.
type caRootRecord struct {
	client    kubernetes.Interface
	namespace string
}

func (r caRootRecord) where() string {
	return fmt.Sprintf("ConfigMap %s/%s on the management cluster", r.namespace, caRootConfigMap)
}

// recorded returns the recorded root, if any. An unreadable record is an
// error: starting without the check is what it exists to prevent.
func (r caRootRecord) recorded(ctx context.Context) ([]ca.RecordedRoot, error) {
	ctx, cancel := context.WithTimeout(ctx, kubeCARecordTimeout)
	defer cancel()
	cm, err := r.client.CoreV1().ConfigMaps(r.namespace).Get(ctx, caRootConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the CA root record (%s): %w", r.where(), err)
	}
	fp, err := recordFingerprint(cm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; fix or delete it", r.where(), err)
	}
	return []ca.RecordedRoot{{Fingerprint: fp, Where: r.where()}}, nil
}

// recordFingerprint is the fingerprint of the root in cm.
func recordFingerprint(cm *corev1.ConfigMap) (string, error) {
	blk, _ := pem.Decode([]byte(cm.Data[caRootConfigMapPEM]))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return "", fmt.Errorf("key %q holds no CERTIFICATE PEM block", caRootConfigMapPEM)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "", fmt.Errorf("key %q: %w", caRootConfigMapPEM, err)
	}
	return ca.Fingerprint(cert), nil
}

// record makes the ConfigMap hold c's signing root. Another replica may
// create it first: then its root must be one c trusts, or serve stops (two
// replicas signing with different roots is the mix-up this prevents). A
// failure to write is logged, not fatal: the CA in use was already checked.
func (r caRootRecord) record(ctx context.Context, c *ca.CA, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, kubeCARecordTimeout)
	defer cancel()
	want := map[string]string{caRootConfigMapPEM: string(c.RootPEM()), caRootConfigMapFP: c.RootFingerprint()}
	cms := r.client.CoreV1().ConfigMaps(r.namespace)
	cm, err := cms.Get(ctx, caRootConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: caRootConfigMap, Namespace: r.namespace,
				Labels: map[string]string{"app.kubernetes.io/name": "causeway"}},
			Data: want,
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) { // another replica was first
			if cm, err = cms.Get(ctx, caRootConfigMap, metav1.GetOptions{}); err == nil {
				return r.checkOther(cm, c)
			}
		}
	} else if err == nil {
		if fp, ferr := recordFingerprint(cm); ferr == nil && fp == c.RootFingerprint() {
			return nil
		}
		cm.Data = want
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		log.Warn("could not record the CA root; a replica with another root will not be detected", "record", r.where(), "error", err)
		return nil
	}
	log.Info("CA root recorded", "record", r.where(), "rootSHA256", c.RootFingerprint())
	return nil
}

// checkOther refuses c when cm (written by another replica just now)
// holds a root c does not trust.
func (r caRootRecord) checkOther(cm *corev1.ConfigMap, c *ca.CA) error {
	fp, err := recordFingerprint(cm)
	if err != nil {
		return fmt.Errorf("%s: %w", r.where(), err)
	}
	if c.TrustsRoot(fp) {
		return nil
	}
	return errors.New("another replica recorded CA root " + fp + " in " + r.where() + " while this one signs with " + c.RootFingerprint() +
		": every replica must use the same root (one Secret at --ca-dir, not an emptyDir)")
}

// loadServeCA loads serve's CA (caFlags.loadCA); in Kubernetes mode it is
// checked against the root recorded on the management cluster first, and
// recorded there after.
func loadServeCA(ctx context.Context, f *serveFlags, kubeM *kubeMode, log *slog.Logger) (*ca.CA, error) {
	if kubeM == nil {
		return f.ca.loadCA(f.caDir, f.trustDomain, log)
	}
	recorded, err := kubeM.caRecord.recorded(ctx)
	if err != nil {
		return nil, err
	}
	c, err := f.ca.loadCA(f.caDir, f.trustDomain, log, recorded...)
	if err != nil {
		return nil, err
	}
	if err := kubeM.caRecord.record(ctx, c, log); err != nil {
		return nil, err
	}
	return c, nil
}
