package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/causeway-dev/causeway/internal/ca"
)

// credFiles are a proxy's xDS credential files, issued by a real CA.
type credFiles struct{ ca, cert, key, token string }

func issueCred(t *testing.T) credFiles {
	t.Helper()
	dir := t.TempDir()
	authority, err := ca.LoadOrCreate(filepath.Join(dir, "ca"), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ServerSpiffeID("example.org"), authority.ServerSpiffeID(); got != want {
		t.Errorf("bootstrap expects the server as %q, the CA issues it as %q", got, want)
	}
	cert, key, _, err := authority.Issue(authority.SpiffeID("gateway", "cluster-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	c := credFiles{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "token")}
	for path, data := range map[string][]byte{c.ca: authority.RootPEM(), c.cert: cert, c.key: key, c.token: []byte("eyJhbGciOi.payload.sig")} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func withSecurity(s Security) Options {
	o := gatewayOpts
	o.Security = s
	return o
}

// upstreamTLS returns the xDS cluster's TLS context and the ADS service's
// initial metadata of bootstrap y.
func upstreamTLS(t *testing.T, y []byte) (*tlsv3.UpstreamTlsContext, []*corev3.HeaderValue) {
	t.Helper()
	b := parse(t, y)
	md := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetInitialMetadata()
	ts := b.GetStaticResources().GetClusters()[0].GetTransportSocket()
	if ts == nil {
		return nil, md
	}
	if ts.GetName() != "envoy.transport_sockets.tls" {
		t.Errorf("transport socket %q, want envoy.transport_sockets.tls", ts.GetName())
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx, md
}

// serverValidation is what every TLS mode must check of the server.
func serverValidation(caFile, td string) *tlsv3.CommonTlsContext_ValidationContext {
	return &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: caFile}},
		MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
			SanType: tlsv3.SubjectAltNameMatcher_URI,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "spiffe://" + td + "/ns/causeway-system/sa/causeway"}},
		}},
	}}
}

func TestSecurityClientCertificate(t *testing.T) {
	y, err := Build(withSecurity(Security{CAFile: "/etc/xds/ca.pem", CertFile: "/etc/xds/cert.pem", KeyFile: "/etc/xds/key.pem", TrustDomain: "example.org", ServerName: "causeway.causeway-system.svc"}))
	if err != nil {
		t.Fatal(err)
	}
	got, md := upstreamTLS(t, y)
	want := &tlsv3.UpstreamTlsContext{
		Sni: "causeway.causeway-system.svc",
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols: []string{"h2"},
			TlsCertificates: []*tlsv3.TlsCertificate{{
				CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: "/etc/xds/cert.pem"}},
				PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: "/etc/xds/key.pem"}},
			}},
			ValidationContextType: serverValidation("/etc/xds/ca.pem", "example.org"),
		},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("xDS TLS context (-want +got):\n%s", diff)
	}
	if md != nil {
		t.Errorf("initial metadata %v without a token", md)
	}
}

func TestSecurityInsecureIsPlaintext(t *testing.T) {
	y, err := Build(withSecurity(Security{Insecure: true}))
	if err != nil {
		t.Fatal(err)
	}
	if got, md := upstreamTLS(t, y); got != nil || md != nil {
		t.Errorf("insecure bootstrap has TLS %v / metadata %v", got, md)
	}
}

// TestSecurityRefused: every way to end up without a protected,
// authenticated xDS stream is refused, naming what to pass.
func TestSecurityRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Security
		want string
	}{
		{"nothing", Security{}, "no credential was given"},
		{"only a CA", Security{CAFile: "ca.pem"}, "--xds-insecure for plaintext"},
		{"cert without key", Security{CAFile: "ca.pem", CertFile: "cert.pem"}, "--xds-cert and --xds-key go together"},
		{"key without cert", Security{CAFile: "ca.pem", KeyFile: "key.pem"}, "--xds-cert and --xds-key go together"},
		{"cert without CA", Security{CertFile: "cert.pem", KeyFile: "key.pem"}, "--xds-ca is required"},
		{"token without CA", Security{TokenFile: "/var/run/secrets/causeway/token"}, "--xds-ca is required"},
		{"token in plaintext", Security{Insecure: true, TokenFile: "/var/run/secrets/causeway/token"}, "--xds-insecure (plaintext xDS) excludes --xds-token-file"},
		{"cert in plaintext", Security{Insecure: true, CAFile: "ca.pem", CertFile: "c", KeyFile: "k"}, "excludes --xds-ca, --xds-cert, --xds-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := Build(withSecurity(tc.s))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want error containing %q; bootstrap:\n%s", err, tc.want, y)
			}
		})
	}
}

// TestEnvoyAcceptsSecureBootstraps loads every mode into the real Envoy,
// with real certificate files, so the TLS context is built as at start.
func TestEnvoyAcceptsSecureBootstraps(t *testing.T) {
	envoy := findEnvoy(t)
	c := issueCred(t)
	for name, s := range map[string]Security{
		"client certificate":       {CAFile: c.ca, CertFile: c.cert, KeyFile: c.key, TrustDomain: "example.org"},
		"token file":               {CAFile: c.ca, TokenFile: c.token},
		"certificate + token file": {CAFile: c.ca, CertFile: c.cert, KeyFile: c.key, TokenFile: c.token},
		"insecure":                 {Insecure: true},
	} {
		t.Run(name, func(t *testing.T) {
			y, err := Build(withSecurity(s))
			if err != nil {
				t.Fatal(err)
			}
			if out, err := envoyValidate(t, envoy, y); err != nil {
				t.Errorf("envoy --mode validate: %v\n%s\n--- bootstrap ---\n%s", err, out, y)
			}
		})
	}
	// Validation reads the files: a bootstrap naming a missing key fails,
	// so the passes above mean Envoy loaded the credential.
	y, err := Build(withSecurity(Security{CAFile: c.ca, CertFile: c.cert, KeyFile: c.key + ".missing"}))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := envoyValidate(t, envoy, y); err == nil {
		t.Errorf("envoy --mode validate accepted a missing key file:\n%s", out)
	}
}
