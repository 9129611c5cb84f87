package e2esec

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// The client proxy of cluster-1 (issue 15) in 127.0.90.x: it reaches
// reviews, in cluster-2 only, through cluster-2's east-west gateway with
// its own identity, causeway-client.
var clientProxyP = proxy{"client-cluster-1", "client", "cluster-1", "127.0.90.1", ""}

// TestClientProxyThroughEastWest runs a real client proxy next to the
// topology's gateway: its requests for reviews.mesh.internal.com cross to
// cluster-2 over mTLS with its client identity, which the east-west
// gateway admits; nothing else the client role brings in gets in: an
// east-west identity, a client identity of another trust domain (signed
// by the very root the gateway trusts, so only the identity check can
// refuse it), a client identity of another namespace, no certificate.
func TestClientProxyThroughEastWest(t *testing.T) {
	top := startTopology(t)
	e := startProxy(t, top, clientProxyP, top.bootstrap(t, clientProxyP))
	if err := e.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	callReviews := func() error {
		req, err := http.NewRequest(http.MethodGet, "http://"+clientProxyP.bind+":9080/reviews", nil)
		if err != nil {
			return err
		}
		req.Host = reviewsHost
		r, err := e2eutil.GetBackend(hc, req)
		if err != nil {
			return err
		}
		return throughEastWest(r)
	}
	if err := e2eutil.Eventually(20*time.Second, 100*time.Millisecond, callReviews); err != nil {
		t.Fatalf("client proxy → east-west → reviews: %v", err)
	}
	ew := top.envoys[eastWestProxy.name]
	// The client proxy presented its own identity, not a gateway's: the
	// east-west gateway's handshakes grew while the gateway sat idle, and
	// the client proxy's upstream TLS context carries the client identity.
	presentedIDs, err := presentedURIs(e)
	if err != nil {
		t.Fatal(err)
	}
	authority, err := ca.LoadOrCreate(top.caDir, trustDomain)
	if err != nil {
		t.Fatal(err)
	}
	if want := authority.SpiffeID("client", "cluster-1"); !presentedIDs[want] || len(presentedIDs) != 1 {
		t.Errorf("client proxy's certificates name %v, want only %s", presentedIDs, want)
	}
	if status, err := eastWestGET(issue(t, authority, authority.SpiffeID("client", "cluster-3"))); err != nil || status != 200 {
		t.Errorf("client identity of cluster-3: status %d, err %v; want 200", status, err)
	}
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		stat string
	}{
		{"no client certificate", nil, ".ssl.fail_verify_no_cert"},
		{"east-west identity", issue(t, authority, authority.SpiffeID("eastwest", "cluster-1")), ".ssl.fail_verify_san"},
		{"client identity of another trust domain, same root", signedByRoot(t, top.caDir,
			"spiffe://other.example/cluster/cluster-1/ns/causeway-system/sa/causeway-client"), ".ssl.fail_verify_san"},
		{"client service account in another namespace", issue(t, authority,
			"spiffe://"+trustDomain+"/cluster/cluster-1/ns/default/sa/causeway-client"), ".ssl.fail_verify_san"},
		{"client identity from another CA", foreignCert(t, authority.SpiffeID("client", "cluster-1")), ".ssl.fail_verify_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sumStats(t, ew, tc.stat)
			if status, err := eastWestGET(tc.cert); err == nil {
				t.Fatalf("got HTTP %d through the east-west gateway, want the connection refused", status)
			}
			if err := e2eutil.Eventually(2*time.Second, 50*time.Millisecond, func() error {
				if after := sumStats(t, ew, tc.stat); after <= before {
					return fmt.Errorf("*%s stayed at %d", tc.stat, after)
				}
				return nil
			}); err != nil {
				t.Errorf("refused, but not for that reason: %v", err)
			}
		})
	}
	if err := callReviews(); err != nil {
		t.Errorf("through the client proxy afterwards: %v", err)
	}
	e2eutil.CheckNoRejectedUpdates(t, top.envoys)
}

// TestClientCredentialClaimsNoOtherRole: a real Envoy holding a client
// proxy's certificate from `causeway certs issue --role client` that
// claims role gateway, or eastwest, is refused by causeway serve and gets
// no configuration (no listener, so none of the east-west gateway's
// secrets or the gateway's routes).
func TestClientCredentialClaimsNoOtherRole(t *testing.T) {
	if !xdsTLS {
		t.Skip("skipping: causeway serve has no TLS xDS in this build, so there are no credentials to misuse")
	}
	top := startTopology(t)
	creds := filepath.Join(top.dir, "creds-misused-client")
	runCmd(t, causewayBin, "certs", "issue", "--ca-dir", top.caDir, "--trust-domain", trustDomain,
		"--role", "client", "--cluster", "cluster-1", "--out", creds)
	for _, claim := range []proxy{
		{"client-as-gateway", "gateway", "cluster-1", "127.0.90.2", "bookinfo/bookinfo-gateway"},
		{"client-as-eastwest", "eastwest", "cluster-1", "127.0.90.3", ""},
	} {
		t.Run(claim.role, func(t *testing.T) {
			args := append([]string{"bootstrap", "--role", claim.role, "--cluster", claim.cluster, "--bind-address", claim.bind,
				"--xds-address", top.xdsAddr, "--admin-address", claim.bind + ":19000", "--node-id", claim.name,
				"--xds-server-name", "localhost", "--xds-ca", filepath.Join(creds, "ca.pem"),
				"--xds-cert", filepath.Join(creds, "cert.pem"), "--xds-key", filepath.Join(creds, "key.pem")}, claim.gatewayArgs()...)
			e := startProxy(t, top, claim, runCmd(t, causewayBin, args...))
			// serve's refusal names this Envoy's node and what it claimed.
			refusal := fmt.Sprintf("node %q claims %s/%s but the credential is %s", claim.name, claim.role, claim.cluster,
				"spiffe://"+trustDomain+"/cluster/cluster-1/ns/causeway-system/sa/causeway-client")
			if err := e2eutil.Eventually(15*time.Second, 100*time.Millisecond, func() error {
				if !strings.Contains(strings.ReplaceAll(top.causeway.LogTail(400), `\"`, `"`), refusal) {
					return fmt.Errorf("no refusal %q in serve's log", refusal)
				}
				return nil
			}); err != nil {
				t.Fatalf("causeway serve did not refuse the client credential claiming %s: %v", claim.role, err)
			}
			var n int
			if err := e2eutil.Eventually(10*time.Second, 100*time.Millisecond, func() (err error) {
				n, err = dynamicListeners(claim.bind + ":19000")
				return err
			}); err != nil || n != 0 {
				t.Errorf("Envoy claiming %s with a client certificate has %d listeners (%v), want none", claim.role, n, err)
			}
			if err := e.Stop(); err != nil {
				t.Error(err)
			}
			delete(top.envoys, claim.name)
		})
	}
	if got, err := top.metric(`causeway_xds_auth_failures_total{reason="identity_mismatch"}`); err != nil || got < 2 {
		t.Errorf("identity_mismatch auth failures %v (%v), want at least one per claim", got, err)
	}
}

// startProxy starts an Envoy for p with bootstrap y, stopped when t ends.
func startProxy(t *testing.T, top *topology, p proxy, y []byte) *envoyrun.Envoy {
	t.Helper()
	e, err := envoyrun.Start(envoyrun.Options{
		Binary: e2eutil.RequireEnvoy(t), Bootstrap: y, AdminAddress: p.bind + ":19000", Dir: top.dir, Name: p.name,
	})
	if err != nil {
		t.Fatal(err)
	}
	top.envoys[p.name] = e
	return e
}

// metric reads one sample from causeway serve's /metrics.
func (top *topology) metric(sample string) (float64, error) {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + top.metricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			return strconv.ParseFloat(strings.Fields(rest)[0], 64)
		}
	}
	return 0, fmt.Errorf("no sample %s in /metrics", sample)
}

// dynamicListeners counts the listeners Envoy at admin has.
func dynamicListeners(admin string) (int, error) {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + admin + "/listeners")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return len(strings.Fields(string(body))), nil
}

// presentedURIs are the URI SANs of the certificates Envoy e presents in
// any TLS context (its xDS client certificate and its identity), from
// admin /certs.
func presentedURIs(e *envoyrun.Envoy) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := e.Admin(ctx, "/certs")
	if err != nil {
		return nil, err
	}
	var d struct {
		Certificates []struct {
			CertChain []struct {
				SubjectAltNames []struct {
					URI string `json:"uri"`
				} `json:"subject_alt_names"`
			} `json:"cert_chain"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("/certs: %w: %.200s", err, body)
	}
	uris := map[string]bool{}
	for _, c := range d.Certificates {
		for _, x := range c.CertChain {
			for _, san := range x.SubjectAltNames {
				if san.URI != "" {
					uris[san.URI] = true
				}
			}
		}
	}
	return uris, nil
}

// signedByRoot signs a client certificate for id with the CA root in
// caDir itself, whatever trust domain id names: it chains to the roots the
// east-west gateway trusts, so only its identity check can refuse it.
func signedByRoot(t *testing.T, caDir, id string) *tls.Certificate {
	t.Helper()
	rootPEM, keyPEM := readFile(t, filepath.Join(caDir, ca.RootCertFile)), readFile(t, filepath.Join(caDir, ca.RootKeyFile))
	root := pemCert(t, rootPEM)
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		t.Fatal("root key: no PEM block")
	}
	rootKey, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs: []*url.URL{u},
	}, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{leafDER, root.Raw}, PrivateKey: leafKey}
}
