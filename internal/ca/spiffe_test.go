package ca

import (
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseProxyID(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"gateway", "eastwest", "client"} {
		cluster, got, err := ParseProxyID(c.SpiffeID(role, "cluster-1"))
		if err != nil || cluster != "cluster-1" || got != role {
			t.Errorf("ParseProxyID(SpiffeID(%s, cluster-1)) = %q, %q, %v", role, cluster, got, err)
		}
	}
	if td := TrustDomainOf(c.SpiffeID("gateway", "c")); td != "causeway.local" {
		t.Errorf("TrustDomainOf = %q", td)
	}
	for _, id := range []string{
		c.ServerSpiffeID(), // the control plane is no proxy
		"spiffe://causeway.local/cluster/c1/ns/bookinfo/sa/causeway-gateway",      // another namespace
		"spiffe://causeway.local/cluster/c1/ns/causeway-system/sa/default",        // another service account
		"spiffe://causeway.local/cluster/c1/ns/causeway-system/sa/causeway-admin", // unknown role
		"spiffe://causeway.local/cluster/c1/ns/causeway-system/sa/causeway-clients",
		"spiffe://causeway.local/cluster/c1/ns/default/sa/causeway-client",        // a workload's account of that name
		"spiffe://causeway.local/cluster//ns/causeway-system/sa/causeway-gateway", // empty cluster
		"spiffe://causeway.local/cluster/c1/ns/causeway-system/sa/causeway-gateway/x",
		"https://causeway.local/cluster/c1/ns/causeway-system/sa/causeway-gateway",
		"spiffe:///cluster/c1/ns/causeway-system/sa/causeway-gateway",
		"spiffe://causeway.local/cluster/c1/ns/causeway-system/sa/causeway-gateway?x=1",
		"",
	} {
		if cluster, role, err := ParseProxyID(id); err == nil {
			t.Errorf("ParseProxyID(%q) = %q, %q, want an error", id, cluster, role)
		} else if !strings.Contains(err.Error(), "not a Causeway proxy identity") && id != "" {
			t.Errorf("ParseProxyID(%q): unclear error %v", id, err)
		}
	}
}

func TestIssueServing(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.IssueServing(nil, nil, time.Hour); err == nil {
		t.Error("IssueServing without names or IPs succeeded")
	}
	certPEM, _, notAfter, err := c.IssueServing([]string{"localhost", "xds.example"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert := parseCert(t, certPEM)
	if !slices.Equal(cert.DNSNames, []string{"localhost", "xds.example"}) || len(cert.IPAddresses) != 1 || !cert.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("SANs DNS %v IP %v", cert.DNSNames, cert.IPAddresses)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != c.ServerSpiffeID() {
		t.Errorf("URIs %v, want %s", cert.URIs, c.ServerSpiffeID())
	}
	if d := time.Until(notAfter); d > time.Hour || d < 59*time.Minute {
		t.Errorf("notAfter in %v, want about 1h", d)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.RootPEM())
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "xds.example"}); err != nil {
		t.Errorf("serving certificate does not verify for xds.example: %v", err)
	}
	// Server auth only: a leaked serving key cannot pose as a proxy.
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("serving certificate verifies for client auth")
	}
}
