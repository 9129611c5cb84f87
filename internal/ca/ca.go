package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// File names inside the CA directory.
const (
	RootCertFile = "root.pem"
	RootKeyFile  = "root-key.pem"
)

const (
	rootTTL = 10 * 365 * 24 * time.Hour
	// DefaultTTL is the lifetime of a leaf when Issue is given zero.
	DefaultTTL = 24 * time.Hour
	// backdate tolerates small clock skew between the CA and its peers.
	backdate = 5 * time.Minute
)

// CA issues SPIFFE leaf certificates from a persisted root. It is safe for
// concurrent use: its fields never change after LoadOrCreate.
type CA struct {
	trustDomain string
	root        *x509.Certificate
	rootPEM     []byte
	key         *ecdsa.PrivateKey
	// roots are root and the trust bundle's roots, deduplicated.
	roots []*x509.Certificate
	// created: LoadOrCreate made the root; historyErr: see HistoryError.
	created    bool
	historyErr error
}

// LoadOrCreate loads the root from dir, or creates dir and a new root when
// neither file exists. A half-present pair is an error rather than a silent
// new root: replacing a root breaks every proxy that trusts the old one.
// For the same reason it refuses to create a root where one existed before
// (dir's RootHistoryFile or TrustBundleFile, or a WithRecordedRoots record),
// and to load a root that neither is nor trusts (in the trust bundle) the
// latest recorded root, unless AllowNewRoot is given. The root it ends up
// with is appended to RootHistoryFile (see HistoryError).
// The trust bundle (TrustBundleFile in dir, WithTrustBundle) is loaded too.
func LoadOrCreate(dir, trustDomain string, opts ...Option) (*CA, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	history, err := readHistory(dir)
	if err != nil {
		return nil, err
	}
	c, err := loadOrCreateRoot(dir, trustDomain, func() error {
		if found := earlierRootEvidence(dir, history, o.recorded); found != "" && !o.allowNewRoot {
			return &PreviousRootError{Dir: dir, Found: found, Created: true}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	bundle, err := loadBundle(dir, o)
	if err != nil {
		return nil, err
	}
	c.roots = dedupRoots(c.root, bundle)
	if !o.allowNewRoot && !c.created {
		if err := checkContinues(c, dir, history, o.recorded); err != nil {
			return nil, err
		}
	}
	// A read-only directory (a mounted Secret) cannot keep a history; the
	// caller reports that, it does not stop the CA.
	c.historyErr = appendHistory(dir, history, c.root)
	return c, nil
}

// Created reports whether LoadOrCreate created the root (it was not there).
func (c *CA) Created() bool { return c.created }

// RootFingerprint is the signing root's Fingerprint.
func (c *CA) RootFingerprint() string { return Fingerprint(c.root) }

// HistoryError is why the root could not be recorded in RootHistoryFile
// (nil when it was, or already is).
func (c *CA) HistoryError() error { return c.historyErr }

// loadOrCreateRoot loads dir's root, or creates one if mayCreate agrees.
func loadOrCreateRoot(dir, trustDomain string, mayCreate func() error) (*CA, error) {
	if trustDomain == "" {
		return nil, errors.New("ca: trust domain is required")
	}
	certPath, keyPath := filepath.Join(dir, RootCertFile), filepath.Join(dir, RootKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return load(certPath, keyPath, trustDomain)
	case errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist):
		if err := mayCreate(); err != nil {
			return nil, err
		}
		c, err := create(dir, certPath, keyPath, trustDomain)
		if err == nil {
			c.created = true
		}
		return c, err
	case certErr != nil && !errors.Is(certErr, os.ErrNotExist):
		return nil, fmt.Errorf("ca: %w", certErr)
	case keyErr != nil && !errors.Is(keyErr, os.ErrNotExist):
		return nil, fmt.Errorf("ca: %w", keyErr)
	default:
		return nil, fmt.Errorf("ca: %s holds only one of %s and %s; restore or remove it", dir, RootCertFile, RootKeyFile)
	}
}

func create(dir, certPath, keyPath, trustDomain string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca: generate root key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{Organization: []string{"Causeway"}, CommonName: "Causeway root CA " + trustDomain},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(rootTTL),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		URIs:                  []*url.URL{{Scheme: "spiffe", Host: trustDomain}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("ca: create root: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("ca: marshal root key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	// The key goes first: a certificate is never on disk without its key.
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	return load(certPath, keyPath, trustDomain)
}

// writeFile writes via a temporary file and rename so a crash never leaves a
// truncated root behind.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("ca: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("ca: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ca: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}

func load(certPath, keyPath, trustDomain string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("ca: %s: no CERTIFICATE PEM block", certPath)
	}
	root, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", certPath, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("ca: %s: no PEM block", keyPath)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(root.PublicKey) {
		return nil, fmt.Errorf("ca: %s does not match %s", keyPath, certPath)
	}
	if !root.IsCA {
		return nil, fmt.Errorf("ca: %s is not a CA certificate", certPath)
	}
	want := "spiffe://" + trustDomain
	if len(root.URIs) != 1 || root.URIs[0].String() != want {
		return nil, fmt.Errorf("ca: root in %s is for %v, not trust domain %q", certPath, root.URIs, trustDomain)
	}
	return &CA{trustDomain: trustDomain, root: root, rootPEM: certPEM, key: key}, nil
}

// Issue signs a new leaf for spiffeID (which must be in the CA's trust
// domain) valid for ttl (DefaultTTL when zero), with a fresh key.
func (c *CA) Issue(spiffeID string, ttl time.Duration) (certPEM, keyPEM []byte, notAfter time.Time, err error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	id, err := c.workloadID(spiffeID)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	now := time.Now()
	notAfter = now.Add(ttl).Truncate(time.Second)
	if notAfter.After(c.root.NotAfter) {
		notAfter = c.root.NotAfter
	}
	return c.issue(id, now.Add(-backdate), notAfter)
}

// IssueWithValidity signs a leaf for spiffeID valid from notBefore to
// notAfter exactly, which may lie in the past. It exists for tests that
// need expired or not-yet-valid certificates; the server uses Issue.
func (c *CA) IssueWithValidity(spiffeID string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	id, err := c.workloadID(spiffeID)
	if err != nil {
		return nil, nil, err
	}
	if !notAfter.After(notBefore) {
		return nil, nil, fmt.Errorf("ca: %s: notAfter %v is not after notBefore %v", spiffeID, notAfter, notBefore)
	}
	certPEM, keyPEM, _, err = c.issue(id, notBefore, notAfter)
	return certPEM, keyPEM, err
}

// workloadID parses spiffeID and checks it is in the CA's trust domain.
func (c *CA) workloadID(spiffeID string) (*url.URL, error) {
	id, err := url.Parse(spiffeID)
	if err != nil {
		return nil, fmt.Errorf("ca: spiffe id %q: %w", spiffeID, err)
	}
	if id.Scheme != "spiffe" || id.Host != c.trustDomain || id.Path == "" {
		return nil, fmt.Errorf("ca: %q is not a workload id in trust domain %q", spiffeID, c.trustDomain)
	}
	return id, nil
}

// issue signs a leaf for id with a fresh key.
func (c *CA) issue(id *url.URL, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, _ time.Time, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{Organization: []string{"Causeway"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.root, &key.PublicKey, c.key)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: sign %s: %w", id, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, notAfter, nil
}

// RootPEM returns the signing root certificate, PEM encoded. What peers
// should trust is RootsPEM, which adds the trust bundle.
func (c *CA) RootPEM() []byte { return append([]byte(nil), c.rootPEM...) }

// TrustDomain returns the SPIFFE trust domain, e.g. "causeway.local".
func (c *CA) TrustDomain() string { return c.trustDomain }

// SpiffeID is the identity of proxies with role in cluster.
func (c *CA) SpiffeID(role, cluster string) string {
	return fmt.Sprintf("spiffe://%s/cluster/%s/ns/causeway-system/sa/causeway-%s", c.trustDomain, cluster, role)
}

// newSerial returns a random 128-bit positive serial number.
func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}
