package e2esec

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/translator"
)

// reviewsSNI asks the east-west gateway for reviews:9080.
var reviewsSNI = translator.SNI(reviewsHost, 9080, "")

// eastWestGET opens TLS to the east-west gateway with SNI reviewsSNI and
// the given client certificate (nil: none), sends one request and returns
// the status. Any error means no HTTP response came back.
func eastWestGET(client *tls.Certificate) (int, error) {
	conn, err := net.DialTimeout("tcp", eastWestAddr, 2*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	// The server presents a SPIFFE certificate without a DNS name; which
	// server answered is not under test here, who gets in is.
	cfg := &tls.Config{ServerName: reviewsSNI, InsecureSkipVerify: true}
	if client != nil {
		// Always send it, even when its issuer is not among the server's
		// acceptable CAs, or the other-CA case would send nothing.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return client, nil }
	}
	tc := tls.Client(conn, cfg)
	if err := tc.Handshake(); err != nil {
		return 0, fmt.Errorf("handshake: %w", err)
	}
	// With TLS 1.3 the server checks the client certificate after the
	// client's handshake is done: a refusal arrives on the first read.
	if _, err := io.WriteString(tc, "GET /reviews HTTP/1.1\r\nHost: "+reviewsHost+"\r\nConnection: close\r\n\r\n"); err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// issue returns a tls.Certificate for id from the CA in caDir.
func issue(t *testing.T, authority *ca.CA, id string) *tls.Certificate {
	t.Helper()
	certPEM, keyPEM, _, err := authority.Issue(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair(t, certPEM, keyPEM)
}

func keyPair(t *testing.T, certPEM, keyPEM []byte) *tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// foreignCert is a certificate for id signed by a CA nobody configured.
func foreignCert(t *testing.T, id string) *tls.Certificate {
	t.Helper()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the Causeway root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		URIs: []*url.URL{{Scheme: "spiffe", Host: trustDomain}},
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(id)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs: []*url.URL{u},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{leafDER, rootDER}, PrivateKey: leafKey}
}

// sumStats adds up e's counters whose names end in suffix.
func sumStats(t *testing.T, e *envoyrun.Envoy, suffix string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := e.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for name, v := range stats {
		if strings.HasSuffix(name, suffix) {
			sum += v
		}
	}
	return sum
}

// certsDump is the part of Envoy's admin /certs this package reads.
type certsDump struct {
	Certificates []struct {
		CertChain []struct {
			SerialNumber string `json:"serial_number"`
		} `json:"cert_chain"`
	} `json:"certificates"`
}

// presented returns the serials of the certificates e presents in any TLS
// context, from admin /certs.
func presented(e *envoyrun.Envoy) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := e.Admin(ctx, "/certs")
	if err != nil {
		return nil, err
	}
	var d certsDump
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("/certs: %w: %.200s", err, body)
	}
	chain := map[string]bool{}
	for _, c := range d.Certificates {
		for _, x := range c.CertChain {
			chain[canonicalSerial(x.SerialNumber)] = true
		}
	}
	return chain, nil
}

// secretsDump is the part of /config_dump?resource=dynamic_active_secrets
// holding the root CA secret.
type secretsDump struct {
	Configs []struct {
		Name   string `json:"name"`
		Secret struct {
			ValidationContext struct {
				TrustedCA struct {
					InlineBytes []byte `json:"inline_bytes"`
				} `json:"trusted_ca"`
			} `json:"validation_context"`
		} `json:"secret"`
	} `json:"configs"`
}

// trustedRoots returns the serials of the roots in e's active root CA
// secret. (/certs lists only the first certificate of a CA bundle.)
func trustedRoots(e *envoyrun.Envoy) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := e.Admin(ctx, "/config_dump?resource=dynamic_active_secrets")
	if err != nil {
		return nil, err
	}
	var d secretsDump
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("secrets config dump: %w", err)
	}
	for _, c := range d.Configs {
		if c.Name != translator.RootCASecretName {
			continue
		}
		roots := map[string]bool{}
		rest := c.Secret.ValidationContext.TrustedCA.InlineBytes
		for {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, err
			}
			roots[serial(cert)] = true
		}
		return roots, nil
	}
	return nil, fmt.Errorf("no active secret %s", translator.RootCASecretName)
}

// serial formats a certificate serial as canonicalSerial does.
func serial(c *x509.Certificate) string { return fmt.Sprintf("%x", c.SerialNumber) }

// canonicalSerial turns a serial as Envoy's /certs prints it (the DER
// integer's bytes in hex, so "0859..." when the first byte is below 0x10)
// into the form serial gives: lower case, no leading zeros.
func canonicalSerial(s string) string {
	s = strings.TrimLeft(strings.ToLower(s), "0")
	if s == "" {
		return "0"
	}
	return s
}

// envoyCerts returns the serials e presents and the roots it trusts.
func envoyCerts(e *envoyrun.Envoy) (chain, roots map[string]bool, err error) {
	if chain, err = presented(e); err != nil {
		return nil, nil, err
	}
	if roots, err = trustedRoots(e); err != nil {
		return nil, nil, err
	}
	return chain, roots, nil
}

// TestCanonicalSerial: Envoy prints a serial as the DER integer's bytes, so
// a first byte below 0x10 keeps its leading zero that %x drops; the two
// forms must compare equal (CI once failed on serial 0859fd…).
func TestCanonicalSerial(t *testing.T) {
	for _, tc := range []struct{ envoy, goHex string }{
		{"0859fd292c167dd4531cfba6b443863d", "859fd292c167dd4531cfba6b443863d"},
		{"00A1B2", "a1b2"},
		{"6CADC633", "6cadc633"},
		{"00", "0"},
	} {
		n, ok := new(big.Int).SetString(tc.goHex, 16)
		if !ok {
			t.Fatalf("bad test hex %q", tc.goHex)
		}
		if got, want := canonicalSerial(tc.envoy), serial(&x509.Certificate{SerialNumber: n}); got != want {
			t.Errorf("canonicalSerial(%q) = %q, serial() = %q", tc.envoy, got, want)
		}
	}
}
