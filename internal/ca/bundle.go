package ca

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// TrustBundleFile, in the CA directory, holds extra roots trusted besides
// the signing root: during a root rotation the old root (or, before the
// switch, the new one) goes here so leaves of both verify everywhere.
const TrustBundleFile = "trust-bundle.pem"

// Option configures LoadOrCreate.
type Option func(*options)

type options struct {
	trustBundle  string
	recorded     []RecordedRoot
	allowNewRoot bool
}

// WithRecordedRoots adds records, kept outside the CA directory, of roots
// in use before: LoadOrCreate refuses to create a root while any exists,
// and to load one that neither is nor trusts each of them.
func WithRecordedRoots(r ...RecordedRoot) Option {
	return func(o *options) { o.recorded = append(o.recorded, r...) }
}

// AllowNewRoot lets LoadOrCreate create or load a root although a record
// says another root was in use (a deliberate replacement).
func AllowNewRoot() Option { return func(o *options) { o.allowNewRoot = true } }

// WithTrustBundle adds the roots in the PEM file at path to the trust
// bundle (on top of TrustBundleFile in the CA directory, when present). An
// explicit file that does not exist is an error: the operator asked for it.
func WithTrustBundle(path string) Option { return func(o *options) { o.trustBundle = path } }

// loadBundle reads the trust bundle: dir/TrustBundleFile when it exists,
// then the explicit file. Every block must be a CA certificate, so a leaf
// or a key pasted by mistake is refused with the file named instead of
// silently trusting nothing (or something unintended).
func loadBundle(dir string, o options) ([]*x509.Certificate, error) {
	var roots []*x509.Certificate
	inDir := filepath.Join(dir, TrustBundleFile)
	if _, err := os.Stat(inDir); err == nil {
		certs, err := parseBundle(inDir)
		if err != nil {
			return nil, err
		}
		roots = append(roots, certs...)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if o.trustBundle != "" {
		certs, err := parseBundle(o.trustBundle)
		if err != nil {
			return nil, err
		}
		roots = append(roots, certs...)
	}
	return roots, nil
}

func parseBundle(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca: trust bundle: %w", err)
	}
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("ca: trust bundle %s: block %d is %q, want CERTIFICATE", path, n, blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca: trust bundle %s: block %d: %w", path, n, err)
		}
		if !c.IsCA {
			return nil, fmt.Errorf("ca: trust bundle %s: block %d (%s) is not a CA certificate", path, n, c.Subject)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("ca: trust bundle %s holds no CERTIFICATE PEM block", path)
	}
	return certs, nil
}

// dedupRoots returns root followed by the bundle's certificates, each
// distinct certificate once (a bundle still listing the current root, or
// the in-directory and explicit bundles overlapping, is harmless).
func dedupRoots(root *x509.Certificate, bundle []*x509.Certificate) []*x509.Certificate {
	out := []*x509.Certificate{root}
	seen := map[string]bool{string(root.Raw): true}
	for _, c := range bundle {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	return out
}

// RootsPEM returns every trusted root, PEM encoded: the signing root, then
// the trust bundle's, without duplicates. Proxies (the root CA secret) and
// the xDS server's client verification trust exactly these.
func (c *CA) RootsPEM() []byte {
	var out []byte
	for _, r := range c.roots {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Raw})...)
	}
	return out
}

// RootPool returns a pool of the certificates RootsPEM returns.
func (c *CA) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, r := range c.roots {
		pool.AddCert(r)
	}
	return pool
}
