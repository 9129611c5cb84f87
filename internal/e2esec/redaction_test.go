package e2esec

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Redaction: private keys travel only over SDS to the proxy they belong to.
// Nothing an operator collects for debugging — the control plane's debug
// log, its /metrics, Envoy's /config_dump and /certs, `causeway translate
// --with-secrets` — may contain one, in PEM or in any encoding of the key
// the running control plane actually issued.

// keyForms are the encodings of one private key a leak could take: the PEM
// itself, the base64 lines of its body (a PEM escaped into a log line keeps
// them intact), base64 of the DER (how JSON encodes []byte) and hex.
func keyForms(keyPEM []byte) ([][]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("key is not PEM")
	}
	forms := [][]byte{
		keyPEM,
		[]byte(base64.StdEncoding.EncodeToString(block.Bytes)),
		[]byte(base64.RawStdEncoding.EncodeToString(block.Bytes)),
		[]byte(hex.EncodeToString(block.Bytes)),
	}
	for _, line := range bytes.Split(keyPEM, []byte("\n")) {
		if len(line) >= 32 && !bytes.HasPrefix(line, []byte("-----")) {
			forms = append(forms, line)
		}
	}
	return forms, nil
}

// findKeyMaterial returns why data leaks key material ("" when clean): a PEM
// private key marker, or any form of one of keys.
func findKeyMaterial(data []byte, keys map[string][][]byte) string {
	if i := bytes.Index(data, []byte("PRIVATE KEY")); i >= 0 {
		return fmt.Sprintf("a PEM private key marker at byte %d: %q", i, excerpt(data, i))
	}
	for id, forms := range keys {
		for _, f := range forms {
			if i := bytes.Index(data, f); i >= 0 {
				return fmt.Sprintf("the private key issued for %s at byte %d", id, i)
			}
		}
	}
	return ""
}

// excerpt is the context before a marker, never the key after it.
func excerpt(data []byte, i int) string {
	return string(data[max(0, i-60) : i+len("PRIVATE KEY")])
}

// TestKeyMaterialCheckerCatchesLeaks proves the checker below can fail: a
// key logged by mistake — as PEM through slog's text and JSON handlers, as
// raw bytes through the JSON handler (base64) — is found, and clean output
// is not flagged.
func TestKeyMaterialCheckerCatchesLeaks(t *testing.T) {
	authority, err := ca.LoadOrCreate(t.TempDir(), trustDomain)
	if err != nil {
		t.Fatal(err)
	}
	id := authority.SpiffeID("eastwest", "cluster-2")
	certPEM, keyPEM, _, err := authority.Issue(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forms, err := keyForms(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][][]byte{id: forms}
	der, _ := pem.Decode(keyPEM)
	for name, leak := range map[string]func(io.Writer){
		"text handler, PEM": func(w io.Writer) {
			slog.New(slog.NewTextHandler(w, nil)).Info("issued", "key", string(keyPEM))
		},
		"JSON handler, PEM": func(w io.Writer) {
			slog.New(slog.NewJSONHandler(w, nil)).Info("issued", "key", string(keyPEM))
		},
		"JSON handler, DER bytes": func(w io.Writer) {
			slog.New(slog.NewJSONHandler(w, nil)).Info("issued", "key", der.Bytes)
		},
	} {
		var b bytes.Buffer
		leak(&b)
		if findKeyMaterial(b.Bytes(), keys) == "" {
			t.Errorf("%s: a logged private key was not detected in %q", name, b.String())
		}
	}
	// Without the marker, the issued key's own bytes are still found.
	body := bytes.Join(bytes.Split(keyPEM, []byte("\n"))[1:3], nil)
	if findKeyMaterial([]byte("x="+string(body)), keys) == "" {
		t.Error("the base64 body of the issued key without PEM markers was not detected")
	}
	if got := findKeyMaterial(certPEM, keys); got != "" {
		t.Errorf("a certificate was flagged: %s", got)
	}
}

// TestNoKeyMaterialInDiagnostics runs causeway serve at debug level with a
// gateway and an east-west Envoy carrying traffic, then checks everything
// an operator can collect.
func TestNoKeyMaterialInDiagnostics(t *testing.T) {
	top := startTopology(t, "--log-level", "debug")
	for i := 0; i < 10; i++ {
		if err := getReviews(); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}

	// The keys the running control plane issued, fetched over SDS as each
	// proxy; the certificate must be the one its Envoy presents, so these
	// are the keys in use.
	keys := map[string][][]byte{}
	for _, p := range []proxy{gatewayProxy, eastWestProxy} {
		certPEM, keyPEM := fetchIdentity(t, top, p)
		cert, err := x509.ParseCertificate(mustPEM(t, certPEM))
		if err != nil {
			t.Fatal(err)
		}
		chain, _, err := envoyCerts(top.envoys[p.name])
		if err != nil {
			t.Fatal(err)
		}
		if !chain[serial(cert)] {
			t.Fatalf("%s presents %v, not the certificate SDS serves (serial %s)", p.name, chain, serial(cert))
		}
		forms, err := keyForms(keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		keys[cert.URIs[0].String()] = forms
	}

	sources := map[string][]byte{}
	logData, err := os.ReadFile(top.causeway.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logData, []byte("level=DEBUG")) && !bytes.Contains(logData, []byte(`"level":"DEBUG"`)) {
		t.Fatalf("causeway serve log has no debug lines; is --log-level debug in effect?\n%.2000s", logData)
	}
	sources["causeway serve log"] = logData
	sources["/metrics"] = httpGet(t, "http://"+top.metricsAddr+"/metrics")
	for name, e := range top.envoys {
		for _, path := range []string{"/config_dump?include_eds", "/certs"} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			body, err := e.Admin(ctx, path)
			cancel()
			if err != nil {
				t.Fatalf("%s %s: %v", name, path, err)
			}
			sources[name+" "+path] = body
		}
		// The dump must hold the secrets (redacted), or there is nothing to check.
		if dump := sources[name+" /config_dump?include_eds"]; !bytes.Contains(dump, []byte(translator.IdentitySecretName)) {
			t.Errorf("%s config_dump lacks the %s secret", name, translator.IdentitySecretName)
		}
	}
	for _, p := range []proxy{gatewayProxy, eastWestProxy} {
		sources["translate --with-secrets "+p.role+"/"+p.cluster] = runCmd(t, causewayBin, append([]string{"translate", "--world", top.worldPath,
			"--role", p.role, "--cluster", p.cluster, "--trust-domain", trustDomain, "--with-secrets"}, p.gatewayArgs()...)...)
	}

	for name, data := range sources {
		if len(data) == 0 {
			t.Errorf("%s: empty", name)
			continue
		}
		if why := findKeyMaterial(data, keys); why != "" {
			t.Errorf("%s contains %s", name, why)
		}
	}
}

func mustPEM(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("not PEM")
	}
	return block.Bytes
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := gatewayClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

// fetchIdentity asks the running control plane for p's identity secret over
// ADS, as p (with a client certificate of p's identity when xDS is TLS).
func fetchIdentity(t *testing.T, top *topology, p proxy) (certPEM, keyPEM []byte) {
	t.Helper()
	creds := insecure.NewCredentials()
	if xdsTLS && !top.insecure() {
		dir := filepath.Join(top.dir, "probe-"+p.name)
		runCmd(t, causewayBin, "certs", "issue", "--ca-dir", top.caDir, "--trust-domain", trustDomain,
			"--role", p.role, "--cluster", p.cluster, "--out", dir)
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil || !roots.AppendCertsFromPEM(caPEM) {
			t.Fatalf("read %s/ca.pem: %v", dir, err)
		}
		creds = credentials.NewTLS(&tls.Config{ServerName: "localhost", RootCAs: roots, Certificates: []tls.Certificate{pair}})
	}
	conn, err := grpc.NewClient(top.xdsAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]any{model.NodeMetaRole: p.role, model.NodeMetaCluster: p.cluster, model.NodeMetaBindAddress: p.bind}
	if p.gateway != "" {
		fields[model.NodeMetaGateway] = p.gateway
	}
	md, err := structpb.NewStruct(fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{
		Node:          &corev3.Node{Id: "redaction-probe-" + p.name, Metadata: md},
		TypeUrl:       resource.SecretType,
		ResourceNames: []string{translator.IdentitySecretName, translator.RootCASecretName}, // ADS answers only the full set
	}); err != nil {
		t.Fatal(err)
	}
	r, err := stream.Recv()
	if err != nil {
		t.Fatalf("SDS for %s: %v", p.name, err)
	}
	for _, a := range r.GetResources() {
		var s tlsv3.Secret
		if err := a.UnmarshalTo(&s); err != nil {
			t.Fatal(err)
		}
		if tc := s.GetTlsCertificate(); s.GetName() == translator.IdentitySecretName && tc != nil {
			return tc.GetCertificateChain().GetInlineBytes(), tc.GetPrivateKey().GetInlineBytes()
		}
	}
	t.Fatalf("SDS for %s has no %s among %d resources", p.name, translator.IdentitySecretName, len(r.GetResources()))
	return nil, nil
}
