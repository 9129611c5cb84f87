package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/ca"
)

// caFlags are serve's certificate flags besides --ca-dir and --trust-domain.
type caFlags struct {
	trustBundle string
	certTTL     time.Duration
}

// minCertTTL keeps renewal (at half the TTL) from turning into a storm of
// pushes; real deployments use hours.
const minCertTTL = 10 * time.Second

func addCAFlags(fs *pflag.FlagSet, f *caFlags) {
	fs.StringVar(&f.trustBundle, "trust-bundle", "",
		"PEM file of extra roots to trust besides the signing root, e.g. the old root during a root rotation (adds to "+ca.TrustBundleFile+" in --ca-dir)")
	fs.DurationVar(&f.certTTL, "cert-ttl", 12*time.Hour, "lifetime of issued proxy certificates; they are renewed at half of it")
}

// loadCA loads the CA from dir with the trust bundle f names.
func (f caFlags) loadCA(dir, trustDomain string) (*ca.CA, error) {
	if f.certTTL != 0 && f.certTTL < minCertTTL { // 0: the xds default
		return nil, fmt.Errorf("--cert-ttl %v: want at least %v", f.certTTL, minCertTTL)
	}
	var opts []ca.Option
	if f.trustBundle != "" {
		opts = append(opts, ca.WithTrustBundle(f.trustBundle))
	}
	return ca.LoadOrCreate(dir, trustDomain, opts...)
}
