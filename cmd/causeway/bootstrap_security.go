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
	fs.StringVar(&f.tokenFile, "xds-token-file", "", "`path` of a service-account token file (a projected token) that Envoy reads on every xDS (re)connect and sends as \"authorization: Bearer <token>\"; the bootstrap holds the path, not the token, so a rotated token is picked up without a new bootstrap")
	fs.StringVar(&f.serverName, "xds-server-name", bootstrap.DefaultXDSServerName, "TLS server name (SNI) of the xDS server, as serve --xds-server-name")
	fs.StringVar(&f.trustDomain, "trust-domain", bootstrap.DefaultTrustDomain, "SPIFFE trust domain of the xDS server's identity, as serve --trust-domain")
	fs.BoolVar(&f.insecure, "xds-insecure", false, "plaintext xDS without authentication: development only, anyone who reaches the server gets the proxy's keys")
}

// security returns the bootstrap's Security; Build checks the
// combination. File paths are Envoy's to read; the token file is read here
// only to catch a wrong path or content now rather than at the proxy's
// first connect (the token itself is not written into the bootstrap).
func (f *xdsSecurityFlags) security() (bootstrap.Security, error) {
	s := bootstrap.Security{
		Insecure: f.insecure, CAFile: f.ca, CertFile: f.cert, KeyFile: f.key, TokenFile: f.tokenFile,
		ServerName: f.serverName, TrustDomain: f.trustDomain,
	}
	if f.tokenFile != "" {
		if err := checkTokenFile(f.tokenFile); err != nil {
			return s, err
		}
	}
	return s, nil
}

// checkTokenFile refuses a token file Envoy would send as a broken
// credential: Envoy sends the file's bytes as they are, after "Bearer ".
func checkTokenFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--xds-token-file: %w", err)
	}
	tok := string(data)
	switch {
	case strings.TrimSpace(tok) == "":
		return fmt.Errorf("--xds-token-file %s is empty; want a service-account token (JWT)", path)
	case tok != strings.TrimRight(tok, " \t\r\n") && looksLikeJWT(strings.TrimRight(tok, " \t\r\n")):
		return fmt.Errorf("--xds-token-file %s ends with a newline or space, which Envoy would send as part of the token: write the token alone "+
			"(e.g. printf %%s \"$(kubectl create token ...)\" > %s); projected service-account tokens are written that way", path, path)
	case !looksLikeJWT(tok):
		return fmt.Errorf("--xds-token-file %s does not hold a service-account token: want one JWT (three base64url parts joined by dots, no whitespace)", path)
	}
	return nil
}

// looksLikeJWT reports whether s has the shape of a compact JWS, as
// Kubernetes service-account tokens are. The signature is the API
// server's to check.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}
