package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/ca"
)

// caFlags are serve's certificate flags besides --ca-dir and --trust-domain.
type caFlags struct {
	trustBundle string
	certTTL     time.Duration
	// allowNewRoot overrides the refusal to create (or load) a root that
	// does not continue the recorded one; expectRoot is the fingerprint
	// the signing root (or, during a rotation, a bundle root) must have.
	allowNewRoot bool
	expectRoot   string
}

// minCertTTL keeps renewal (at half the TTL) from turning into a storm of
// pushes; real deployments use hours.
const minCertTTL = 10 * time.Second

func addCAFlags(fs *pflag.FlagSet, f *caFlags) {
	fs.StringVar(&f.trustBundle, "trust-bundle", "",
		"PEM file of extra roots to trust besides the signing root, e.g. the old root during a root rotation (adds to "+ca.TrustBundleFile+" in --ca-dir)")
	fs.DurationVar(&f.certTTL, "cert-ttl", 12*time.Hour, "lifetime of issued proxy certificates; they are renewed at half of it")
	fs.BoolVar(&f.allowNewRoot, "ca-allow-new-root", false,
		"create a new CA root although a record says another root was in use (--ca-dir's "+ca.RootHistoryFile+" or "+ca.TrustBundleFile+
			", in Kubernetes mode the ConfigMap "+caRootConfigMap+", --ca-expect-root-fingerprint), or use a root that neither is nor trusts the recorded one; "+
			"every proxy then needs new credentials")
	fs.StringVar(&f.expectRoot, "ca-expect-root-fingerprint", "",
		"SHA-256 fingerprint of the CA root serve must use (openssl x509 -noout -fingerprint -sha256 -in root.pem); without that root in --ca-dir (signing or in the trust bundle) serve refuses to start")
}

// loadCA loads the CA from dir with the trust bundle f names, refusing a
// root that does not continue the recorded one (records: dir's history,
// --ca-expect-root-fingerprint and recorded, e.g. from Kubernetes), and
// logs which root it uses: loudly when it created one.
func (f caFlags) loadCA(dir, trustDomain string, log *slog.Logger, recorded ...ca.RecordedRoot) (*ca.CA, error) {
	if f.certTTL != 0 && f.certTTL < minCertTTL { // 0: the xds default
		return nil, fmt.Errorf("--cert-ttl %v: want at least %v", f.certTTL, minCertTTL)
	}
	var opts []ca.Option
	if f.trustBundle != "" {
		opts = append(opts, ca.WithTrustBundle(f.trustBundle))
	}
	if f.expectRoot != "" {
		fp, err := ca.NormalizeFingerprint(f.expectRoot)
		if err != nil {
			return nil, fmt.Errorf("--ca-expect-root-fingerprint: %w", err)
		}
		recorded = append(recorded, ca.RecordedRoot{Fingerprint: fp, Where: "--ca-expect-root-fingerprint"})
	}
	opts = append(opts, ca.WithRecordedRoots(recorded...))
	if f.allowNewRoot {
		opts = append(opts, ca.AllowNewRoot())
	}
	c, err := ca.LoadOrCreate(dir, trustDomain, opts...)
	var prev *ca.PreviousRootError
	if errors.As(err, &prev) {
		return nil, fmt.Errorf("--ca-dir %s: %w. Start serve with the directory (or Secret) holding that root; "+
			"to replace the root on purpose, pass --ca-allow-new-root (every proxy then needs new credentials)", dir, err)
	}
	if err != nil {
		return nil, err
	}
	if c.Created() {
		log.Warn("created a NEW CA root: proxies holding credentials from any other root will fail the TLS handshake with this server; "+
			"if proxies ran against an earlier root, stop and start serve with that root's --ca-dir",
			"caDir", dir, "rootSHA256", c.RootFingerprint(), "trustDomain", trustDomain)
	} else {
		log.Info("CA root loaded", "caDir", dir, "rootSHA256", c.RootFingerprint(), "trustDomain", trustDomain)
	}
	if err := c.HistoryError(); err != nil {
		log.Info("CA root not recorded in --ca-dir (read-only?); a lost root there will not be detected from the directory",
			"file", ca.RootHistoryFile, "error", err)
	}
	return c, nil
}
