package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/bootstrap"
)

// xdsSecurityFlags are bootstrap's flags for protecting the xDS stream.
type xdsSecurityFlags struct {
	ca, cert, key, tokenFile, serverName, trustDomain string
	insecure                                          bool
}

func (f *xdsSecurityFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.ca, "xds-ca", "", "PEM roots that sign the xDS server's certificate (ca.pem of causeway certs issue)")
	fs.StringVar(&f.cert, "xds-cert", "", "client certificate the proxy authenticates with (cert.pem of causeway certs issue)")
	fs.StringVar(&f.key, "xds-key", "", "key of --xds-cert")
	fs.StringVar(&f.tokenFile, "xds-token-file", "", "file with a service-account token sent as `authorization: Bearer` (inlined into the bootstrap)")
	fs.StringVar(&f.serverName, "xds-server-name", bootstrap.DefaultXDSServerName, "TLS server name (SNI) of the xDS server, as serve --xds-server-name")
	fs.StringVar(&f.trustDomain, "trust-domain", bootstrap.DefaultTrustDomain, "SPIFFE trust domain of the xDS server's identity, as serve --trust-domain")
	fs.BoolVar(&f.insecure, "xds-insecure", false, "plaintext xDS without authentication: development only, anyone who reaches the server gets the proxy's keys")
}

// security reads the token (file paths are Envoy's to read) and returns
// the bootstrap's Security; Build checks the combination.
func (f *xdsSecurityFlags) security() (bootstrap.Security, error) {
	s := bootstrap.Security{
		Insecure: f.insecure, CAFile: f.ca, CertFile: f.cert, KeyFile: f.key,
		ServerName: f.serverName, TrustDomain: f.trustDomain,
	}
	if f.tokenFile != "" {
		data, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return s, fmt.Errorf("--xds-token-file: %w", err)
		}
		if s.Token = strings.TrimSpace(string(data)); s.Token == "" {
			return s, fmt.Errorf("--xds-token-file %s is empty", f.tokenFile)
		}
	}
	return s, nil
}
