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
	"net"
	"net/url"
	"time"
)

// IssueServing signs a TLS server certificate for the control plane's xDS
// server: URI SAN ServerSpiffeID, DNS SANs names and IP SANs ips (at least
// one of them, so proxies have something to verify), server auth only (a
// stolen serving key cannot pose as a proxy), valid for ttl (DefaultTTL
// when zero), with a fresh key.
func (c *CA) IssueServing(names []string, ips []net.IP, ttl time.Duration) (certPEM, keyPEM []byte, notAfter time.Time, err error) {
	if len(names) == 0 && len(ips) == 0 {
		return nil, nil, time.Time{}, errors.New("ca: a serving certificate needs at least one DNS name or IP address")
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	id, err := url.Parse(c.ServerSpiffeID())
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: generate key: %w", err)
	}
	now := time.Now()
	notAfter = now.Add(ttl).Truncate(time.Second)
	if notAfter.After(c.root.NotAfter) {
		notAfter = c.root.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{Organization: []string{"Causeway"}, CommonName: "causeway xDS server"},
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		URIs:         []*url.URL{id},
		DNSNames:     append([]string(nil), names...),
		IPAddresses:  append([]net.IP(nil), ips...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.root, &key.PublicKey, c.key)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: sign serving certificate for %v %v: %w", names, ips, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("ca: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, notAfter, nil
}
