package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/translator"
)

// HTTPS termination through a real Envoy (issue 11): the gateway proxy at
// 127.0.66.1 serves one Gateway with two HTTPS listeners on port 8443,
// a.example.com and b.example.com, each with its own certificate from a
// world-file Secret, and a plain HTTP listener on 8080 that redirects to
// HTTPS. Backends app-a and app-b are 127.0.66.10 and .11.

const (
	httpsGateway = "127.0.66.1"
	httpsPort    = "8443"
	httpPort     = "8080"
)

var httpsBackends = []backendSpec{
	{"cluster-1", "app-a", "app-a", "v1", "127.0.66.10:9080"},
	{"cluster-1", "app-b", "app-b", "v1", "127.0.66.11:9080"},
}

var httpsProxies = []proxySpec{
	{"gateway-https", "gateway", "cluster-1", "us-east", "us-east-1a", httpsGateway, "gw/web"},
}

// certPair is one certificate and key, PEM encoded, with the parsed leaf.
type certPair struct {
	cert, key []byte
	leaf      *x509.Certificate
}

func newCertPair(t *testing.T, host string) certPair {
	t.Helper()
	c, k, err := e2eutil.SelfSignedCert(host)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(c)
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return certPair{c, k, leaf}
}

func httpsWorld(a, b certPair) []byte {
	docs := []string{`apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}`}
	for _, s := range httpsBackends {
		docs = append(docs, fmt.Sprintf(`apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: %[1]s, namespace: apps, labels: {app: %[1]s}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, targetPort: 9080, protocol: HTTP}]
  endpoints: [{address: %[2]s}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: %[1]s, namespace: apps}
spec:
  hosts: [%[1]s.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP, targetPort: {name: http}}]
  services: [{labels: {app: %[1]s}}]`, s.Service, strings.Split(s.Address, ":")[0]))
	}
	docs = append(docs, `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}`, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: a, port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: a-cert}]}, allowedRoutes: {namespaces: {from: All}}}
  - {name: b, port: 8443, protocol: HTTPS, hostname: b.example.com, tls: {certificateRefs: [{name: b-cert}]}, allowedRoutes: {namespaces: {from: All}}}`,
		`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-https, namespace: apps}
spec:
  parentRefs: [{name: web, namespace: gw, sectionName: http}]
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, statusCode: 301}}]
  - matches: [{path: {type: PathPrefix, value: /default-port}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]`)
	for _, l := range []string{"a", "b"} {
		docs = append(docs, fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %[1]s, namespace: apps}
spec:
  parentRefs: [{name: web, namespace: gw, sectionName: %[1]s}]
  rules:
  - backendRefs: [{group: networking.istio.io, kind: Hostname, name: app-%[1]s.mesh.internal.com, port: 9080}]`, l))
	}
	docs = append(docs,
		e2eutil.TLSSecretDocument("gw", "a-cert", a.cert, a.key),
		e2eutil.TLSSecretDocument("gw", "b-cert", b.cert, b.key))
	return []byte(strings.Join(docs, "\n---\n") + "\n")
}

// trusting is a TLS client configuration for serverName that trusts the
// given certificates only.
func trusting(serverName string, certs ...certPair) *tls.Config {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.leaf)
	}
	return &tls.Config{ServerName: serverName, RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// handshake connects to the gateway's HTTPS port with SNI serverName and
// returns the leaf certificate it presented (verified against certs).
func handshake(serverName string, certs ...certPair) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(httpsGateway, httpsPort), trusting(serverName, certs...))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// httpsClient sends requests to the gateway whatever the URL's host, with
// TLS for serverName; it does not follow redirects.
func httpsClient(tlsConf *tls.Config) *http.Client {
	d := &net.Dialer{Timeout: 3 * time.Second}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return d.DialContext(ctx, network, net.JoinHostPort(httpsGateway, port))
			},
			TLSClientConfig:   tlsConf,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestGatewayHTTPS(t *testing.T) {
	certA, certB := newCertPair(t, "a.example.com"), newCertPair(t, "b.example.com")
	top := startMesh(t, meshSpec{world: httpsWorld(certA, certB), backends: httpsBackends, proxies: httpsProxies,
		serveArgs: []string{"--log-level", "debug"}})
	gw := top.envoys["gateway-https"]

	// The listener warms until its certificates arrive over SDS; allow for it.
	if err := e2eutil.Eventually(20*time.Second, 200*time.Millisecond, func() error {
		_, err := handshake("a.example.com", certA)
		return err
	}); err != nil {
		t.Fatalf("no TLS handshake with the gateway: %v", err)
	}

	t.Run("certificate chosen by SNI and request routed", func(t *testing.T) {
		for _, tc := range []struct {
			host     string
			cert     certPair
			instance string
		}{{"a.example.com", certA, "app-a"}, {"b.example.com", certB, "app-b"}} {
			// Trusting both: the check is which one the gateway chose.
			leaf, err := handshake(tc.host, certA, certB)
			if err != nil {
				t.Fatalf("SNI %s: %v", tc.host, err)
			}
			if leaf.SerialNumber.Cmp(tc.cert.leaf.SerialNumber) != 0 || leaf.Subject.CommonName != tc.host || leaf.DNSNames[0] != tc.host {
				t.Errorf("SNI %s: got the certificate of %s (%v)", tc.host, leaf.Subject.CommonName, leaf.DNSNames)
			}
			req, _ := http.NewRequest(http.MethodGet, "https://"+tc.host+":"+httpsPort+"/hello", nil)
			r, err := e2eutil.GetBackend(httpsClient(trusting(tc.host, tc.cert)), req)
			if err != nil {
				t.Fatalf("GET https://%s: %v", tc.host, err)
			}
			if r.Instance != tc.instance {
				t.Errorf("GET https://%s answered by %s, want %s", tc.host, r.Instance, tc.instance)
			}
		}
		// No listener has another hostname, so there is no certificate for it.
		if _, err := handshake("c.example.com", certA, certB); err == nil {
			t.Error("SNI c.example.com: handshake succeeded, want it refused")
		}
	})

	t.Run("HTTP redirects to HTTPS", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://a.example.com:"+httpPort+"/path?q=1", nil)
		resp, err := httpsClient(nil).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := "https://a.example.com:8443/path?q=1"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Fatalf("got %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		r, err := e2eutil.GetBackend(httpsClient(trusting("a.example.com", certA)), mustRequest(t, resp.Header.Get("Location")))
		if err != nil || r.Instance != "app-a" {
			t.Fatalf("following the redirect: %v (answered by %q)", err, r.Instance)
		}
		// Without a port, scheme https redirects to 443 (Envoy writes it
		// out; the Gateway API's conformance accepts it written or not).
		req, _ = http.NewRequest(http.MethodGet, "http://a.example.com:"+httpPort+"/default-port", nil)
		resp, err = httpsClient(nil).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || (loc != "https://a.example.com/default-port" && loc != "https://a.example.com:443/default-port") {
			t.Errorf("got %d Location %q, want 302 to https://a.example.com[:443]/default-port", resp.StatusCode, loc)
		}
	})

	newA := newCertPair(t, "a.example.com")
	t.Run("rotation under traffic", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		before, err := gw.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Every request is a new connection, so every one is a handshake:
		// a listener drained or a certificate missing for a moment would
		// fail some. The client trusts both certificates and notes which
		// one each handshake presented.
		var mu sync.Mutex
		type seen struct {
			at  time.Time
			new bool
		}
		var handshakes []seen
		conf := trusting("a.example.com", certA, newA)
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			serial := cs.PeerCertificates[0].SerialNumber
			if serial.Cmp(certA.leaf.SerialNumber) != 0 && serial.Cmp(newA.leaf.SerialNumber) != 0 {
				return fmt.Errorf("unexpected certificate serial %v", serial)
			}
			mu.Lock()
			handshakes = append(handshakes, seen{time.Now(), serial.Cmp(newA.leaf.SerialNumber) == 0})
			mu.Unlock()
			return nil
		}
		load := e2eutil.StartLoad(t, e2eutil.LoadSpec{
			URL: "https://" + httpsGateway + ":" + httpsPort + "/rotation", Host: "a.example.com",
			TLS: conf, FreshConnections: true, Rate: 50, Max: 40 * time.Second,
			Classify: func(status int, body []byte) (string, error) {
				r, err := e2eutil.BackendAnswer(status, body)
				if err == nil && r.Instance != "app-a" {
					err = fmt.Errorf("answered by %s", r.Instance)
				}
				return r.Instance, err
			},
		})
		start := time.Now()
		time.Sleep(2 * time.Second)
		rotated := time.Now()
		writeWorldFile(t, top.worldPath, httpsWorld(newA, certB))

		// New connections must see the new certificate, and keep seeing it.
		const streak = 25
		var first, settled time.Duration
		err = e2eutil.Eventually(30*time.Second, 50*time.Millisecond, func() error {
			mu.Lock()
			defer mu.Unlock()
			run, found := 0, false
			for _, h := range handshakes {
				if h.at.Before(rotated) {
					continue
				}
				if !h.new {
					run = 0
					continue
				}
				if !found {
					first, found = h.at.Sub(rotated), true
				}
				if run++; run == streak {
					settled = h.at.Sub(rotated)
					return nil
				}
			}
			return fmt.Errorf("no %d handshakes in a row with the new certificate yet", streak)
		})
		time.Sleep(2 * time.Second) // traffic after the rotation too
		res := load.Stop()
		t.Logf("load: %s", res)
		if err != nil {
			t.Fatalf("new certificate not served: %v", err)
		}
		t.Logf("rotation: first handshake with the new certificate %v after the world file changed, %d in a row by %v",
			first.Round(time.Millisecond), streak, settled.Round(time.Millisecond))
		if res.Failed > 0 {
			t.Errorf("%d of %d requests failed during the rotation:\n%s", res.Failed, res.Total, res.FailureLines(start))
		}
		if res.ByClass["app-a"] < 100 {
			t.Errorf("only %d requests answered; the load did not run", res.ByClass["app-a"])
		}
		// The certificate was swapped in place: no listener was modified
		// (which would drain its connections), and the secret was updated.
		after, err := gw.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if before["listener_manager.listener_added"] == 0 {
			t.Fatalf("no listener_manager.listener_added in the gateway's stats: the check below would be vacuous")
		}
		for _, stat := range []string{"listener_manager.listener_modified", "listener_manager.listener_added", "listener_manager.listener_removed"} {
			if after[stat] != before[stat] {
				t.Errorf("%s went from %d to %d on a certificate rotation", stat, before[stat], after[stat])
			}
		}
		leaf, err := handshake("a.example.com", newA)
		if err != nil || leaf.SerialNumber.Cmp(newA.leaf.SerialNumber) != 0 {
			t.Errorf("after the rotation: %v, serial %v", err, serialOf(leaf))
		}
		// b.example.com kept its certificate.
		if leaf, err := handshake("b.example.com", certB); err != nil || leaf.SerialNumber.Cmp(certB.leaf.SerialNumber) != 0 {
			t.Errorf("b.example.com after rotating a: %v", err)
		}
	})
	t.Run("no key material in logs, config dumps or translate", func(t *testing.T) {
		sources := map[string][]byte{}
		logData, err := os.ReadFile(top.causeway.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(logData, []byte("level=DEBUG")) && !bytes.Contains(logData, []byte(`"level":"DEBUG"`)) {
			t.Fatalf("causeway serve log has no debug lines; is --log-level debug in effect?")
		}
		sources["causeway serve log"] = logData
		resp, err := http.Get("http://" + top.metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(metrics) == 0 {
			t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
		}
		sources["/metrics"] = metrics
		for _, path := range []string{"/config_dump?include_eds", "/certs"} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			body, err := gw.Admin(ctx, path)
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			sources["gateway "+path] = body
		}
		// The dump holds the certificate secrets, with the keys redacted.
		if name := translator.GatewayCertificateSecretName("gw", "b-cert"); !bytes.Contains(sources["gateway /config_dump?include_eds"], []byte(name)) {
			t.Fatalf("the gateway's config_dump lacks secret %s: nothing to check", name)
		}
		out, err := exec.Command(causewayBin, "translate", "--world", top.worldPath, "--role", "gateway", "--cluster", "cluster-1", "--gateway", "gw/web").Output()
		if err != nil {
			t.Fatalf("causeway translate: %v", err)
		}
		sources["translate"] = out
		for name, data := range sources {
			for _, k := range []certPair{certA, certB, newA} {
				if i := keyMaterialAt(data, k.key); i >= 0 {
					t.Errorf("%s holds a private key at byte %d", name, i)
				}
			}
		}
	})
	e2eutil.CheckNoRejectedUpdates(t, top.envoys)
}

// keyMaterialAt finds keyPEM in data (-1 if absent): the PEM, any line of
// its base64 body, base64 of the whole PEM (how JSON encodes bytes) or of
// its DER.
func keyMaterialAt(data, keyPEM []byte) int {
	// Past the headers every key shares, into this key's own bytes.
	forms := [][]byte{keyPEM, []byte(base64.StdEncoding.EncodeToString(keyPEM)[100:148])}
	if b, _ := pem.Decode(keyPEM); b != nil {
		forms = append(forms, []byte(base64.StdEncoding.EncodeToString(b.Bytes)[60:108]))
	}
	for _, line := range bytes.Split(keyPEM, []byte("\n")) {
		if len(line) >= 32 && !bytes.HasPrefix(line, []byte("-----")) {
			forms = append(forms, line)
		}
	}
	for _, f := range forms {
		if i := bytes.Index(data, f); i >= 0 {
			return i
		}
	}
	return -1
}

func serialOf(c *x509.Certificate) *big.Int {
	if c == nil {
		return nil
	}
	return c.SerialNumber
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestKeyMaterialAtFindsKeys proves the check above can fail: a key as
// `translate --with-secrets` prints it (base64 of the PEM in YAML), as PEM
// in a log line, and as its DER in JSON is found; its certificate is not.
func TestKeyMaterialAtFindsKeys(t *testing.T) {
	k := newCertPair(t, "a.example.com")
	b, _ := pem.Decode(k.key)
	for name, data := range map[string][]byte{
		"translate --with-secrets": []byte("private_key:\n    inline_bytes: " + base64.StdEncoding.EncodeToString(k.key) + "\n"),
		"PEM in a log line":        []byte(fmt.Sprintf("level=DEBUG msg=secret value=%q", k.key)),
		"DER in JSON":              []byte(`{"key":"` + base64.StdEncoding.EncodeToString(b.Bytes) + `"}`),
	} {
		if keyMaterialAt(data, k.key) < 0 {
			t.Errorf("%s: key not found", name)
		}
	}
	if i := keyMaterialAt(k.cert, k.key); i >= 0 {
		t.Errorf("the certificate was flagged at byte %d", i)
	}
}
