package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/bootstrap"
)

// xdsSecurityFlags are bootstrap's flags for protecting the xDS stream.
type xdsSecurityFlags struct {
	ca, cert, key, tokenFile, serverName, trustDomain string
	insecure                                          bool
	// skipFileChecks: the files are on the machine Envoy runs on, not here.
	skipFileChecks bool
}

func (f *xdsSecurityFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.ca, "xds-ca", "", "PEM roots that sign the xDS server's certificate (ca.pem of causeway certs issue)")
	fs.StringVar(&f.cert, "xds-cert", "", "client certificate the proxy authenticates with (cert.pem of causeway certs issue)")
	fs.StringVar(&f.key, "xds-key", "", "key of --xds-cert")
	fs.StringVar(&f.tokenFile, "xds-token-file", "", "`path` of a service-account token file (a projected token) that Envoy reads on every xDS (re)connect and sends as \"authorization: Bearer <token>\"; the bootstrap holds the path, not the token, so a rotated token is picked up without a new bootstrap")
	fs.StringVar(&f.serverName, "xds-server-name", bootstrap.DefaultXDSServerName, "TLS server name (SNI) of the xDS server, as serve --xds-server-name")
	fs.StringVar(&f.trustDomain, "trust-domain", bootstrap.DefaultTrustDomain, "SPIFFE trust domain of the xDS server's identity, as serve --trust-domain")
	fs.BoolVar(&f.skipFileChecks, "skip-file-checks", false, "write the --xds-ca, --xds-cert, --xds-key and --xds-token-file paths without reading the files: for a bootstrap made here for an Envoy on another machine or container, where the files will be at those paths (by default each must exist and hold what it should)")
	fs.BoolVar(&f.insecure, "xds-insecure", false, "plaintext xDS without authentication: development only, anyone who reaches the server gets the proxy's keys")
}

// security returns the bootstrap's Security; Build checks the
// combination and checkFiles the files it names.
func (f *xdsSecurityFlags) security() bootstrap.Security {
	return bootstrap.Security{
		Insecure: f.insecure, CAFile: f.ca, CertFile: f.cert, KeyFile: f.key, TokenFile: f.tokenFile,
		ServerName: f.serverName, TrustDomain: f.trustDomain,
	}
}

// checkFiles reads the files the bootstrap names, as Envoy will, so a
// wrong path or content fails here, naming the flag, rather than as a proxy
// that never connects. Only the paths go into the bootstrap: Envoy reads
// the files itself (and re-reads the token on every connect).
func (f *xdsSecurityFlags) checkFiles() error {
	if f.skipFileChecks {
		return nil
	}
	if f.ca != "" {
		data, err := readFlagFile("--xds-ca", f.ca)
		if err != nil {
			return err
		}
		if !x509.NewCertPool().AppendCertsFromPEM(data) {
			return fmt.Errorf("--xds-ca %s holds no PEM certificate: want the roots that sign the xDS server's certificate (ca.pem of causeway certs issue)", f.ca)
		}
	}
	if f.cert != "" && f.key != "" {
		certPEM, err := readFlagFile("--xds-cert", f.cert)
		if err != nil {
			return err
		}
		keyPEM, err := readFlagFile("--xds-key", f.key)
		if err != nil {
			return err
		}
		if !hasPEMBlock(certPEM, "CERTIFICATE") {
			return fmt.Errorf("--xds-cert %s holds no PEM certificate: want the proxy's certificate (cert.pem of causeway certs issue)", f.cert)
		}
		if !hasPEMBlock(keyPEM, "PRIVATE KEY") {
			return fmt.Errorf("--xds-key %s holds no PEM private key: want the key of --xds-cert (key.pem of causeway certs issue)", f.key)
		}
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return fmt.Errorf("--xds-cert %s and --xds-key %s are not a certificate and its key: %w", f.cert, f.key, err)
		}
	}
	if f.tokenFile != "" {
		if _, err := readFlagFile("--xds-token-file", f.tokenFile); err != nil {
			return err
		}
		return checkTokenFile(f.tokenFile)
	}
	return nil
}

// readFlagFile reads the file a flag names; the error names the flag and
// says how to write the bootstrap for another machine.
func readFlagFile(flag, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s does not exist (if Envoy runs elsewhere and will find it there, add --skip-file-checks)", flag, path)
	case err != nil:
		return nil, fmt.Errorf("%s %s cannot be read: %w", flag, path, err)
	}
	return data, nil
}

// hasPEMBlock reports whether data holds a PEM block whose type ends in
// suffix ("PRIVATE KEY" matches PKCS#8, EC and RSA keys).
func hasPEMBlock(data []byte, suffix string) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if strings.HasSuffix(b.Type, suffix) {
			return true
		}
	}
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
