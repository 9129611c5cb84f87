package onboard

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/causeway-dev/causeway/discovery/kube"
	"github.com/causeway-dev/causeway/model"
)

func baseRegistration() Registration {
	return Registration{
		Name: "cluster-3", Namespace: "causeway-system",
		Server: "https://cluster-3.example.com:6443", CA: []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"),
		Token: "token-abc", User: "causeway-reader",
	}
}

// TestRegistrationSecret: the Secret carries the label serve watches, one
// annotation per field set (none for fields left empty, so serve's
// defaults apply), and serve's own parser reads it as the cluster asked
// for.
func TestRegistrationSecret(t *testing.T) {
	expires := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name            string
		edit            func(*Registration)
		wantAnnotations map[string]string
		wantInfo        kube.ClusterInfo
	}{
		{
			name:            "defaults",
			edit:            func(*Registration) {},
			wantAnnotations: map[string]string{"causeway.dev/cluster-name": "cluster-3"},
			wantInfo:        kube.ClusterInfo{Name: "cluster-3", Network: "cluster-3"},
		},
		{
			name: "every field",
			edit: func(r *Registration) {
				r.Network = "network-3"
				r.Locality = model.Locality{Region: "eu-west", Zone: "eu-west-1a", Subzone: "rack-2"}
				r.EastWestGateways = "203.0.113.30:15443, 203.0.113.31:15443"
				r.Expires = expires
			},
			wantAnnotations: map[string]string{
				"causeway.dev/cluster-name": "cluster-3", "causeway.dev/network": "network-3",
				"causeway.dev/region": "eu-west", "causeway.dev/zone": "eu-west-1a", "causeway.dev/subzone": "rack-2",
				"causeway.dev/east-west-gateways": "203.0.113.30:15443, 203.0.113.31:15443",
				"causeway.dev/token-expires":      "2027-01-02T03:04:05Z",
			},
			wantInfo: kube.ClusterInfo{
				Name: "cluster-3", Network: "network-3",
				Locality:         model.Locality{Region: "eu-west", Zone: "eu-west-1a", Subzone: "rack-2"},
				EastWestGateways: []model.GatewayAddress{{Address: "203.0.113.30", Port: 15443}, {Address: "203.0.113.31", Port: 15443}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRegistration()
			tc.edit(&r)
			s, err := r.Secret()
			if err != nil {
				t.Fatal(err)
			}
			if s.Namespace != "causeway-system" || s.Name != "cluster-3" || s.Labels["causeway.dev/cluster"] != "true" || s.Type != corev1.SecretTypeOpaque {
				t.Errorf("Secret %s/%s labels %v type %s", s.Namespace, s.Name, s.Labels, s.Type)
			}
			if d := cmp.Diff(tc.wantAnnotations, s.Annotations); d != "" {
				t.Errorf("annotations (-want +got):\n%s", d)
			}
			info, err := kube.ParseClusterSecret(s)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantInfo, info); d != "" {
				t.Errorf("cluster as serve reads it (-want +got):\n%s", d)
			}
			checkKubeconfig(t, s.Data["kubeconfig"], r)
		})
	}
}

// checkKubeconfig: the kubeconfig's current context reaches r.Server,
// verifying it with r.CA, as r.User with r.Token, and nothing else.
func checkKubeconfig(t *testing.T, data []byte, r Registration) {
	t.Helper()
	raw, err := clientcmd.Load(data)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, nil).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if cfg.Host != r.Server || string(cfg.CAData) != string(r.CA) || cfg.BearerToken != r.Token || cfg.Insecure ||
		cfg.CertData != nil || cfg.Username != "" || cfg.BearerTokenFile != "" {
		t.Errorf("kubeconfig gives host %q CA %q token %q insecure %v; want %q, %q, %q, verified", cfg.Host, cfg.CAData, cfg.BearerToken, cfg.Insecure, r.Server, r.CA, r.Token)
	}
	if raw.CurrentContext != r.Name || raw.Contexts[r.Name].AuthInfo != r.User || len(raw.AuthInfos) != 1 || len(raw.Clusters) != 1 {
		t.Errorf("kubeconfig context %q %+v, users %d, clusters %d", raw.CurrentContext, raw.Contexts[r.Name], len(raw.AuthInfos), len(raw.Clusters))
	}
}

// TestRegistrationSecretErrors: each error names the flag at fault.
func TestRegistrationSecretErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*Registration)
		wantErr []string
	}{
		{"name not a Secret name", func(r *Registration) { r.Name = "Cluster_3" }, []string{"--name", "Cluster_3"}},
		{"gateway without port", func(r *Registration) { r.EastWestGateways = "203.0.113.30" }, []string{"--east-west-gateways", "address:port"}},
		{"gateway port 0", func(r *Registration) { r.EastWestGateways = "a:15443,b:0" }, []string{"--east-west-gateways", "entry 2"}},
		{"no server", func(r *Registration) { r.Server = "" }, []string{"--server"}},
		{"no token", func(r *Registration) { r.Token = "" }, []string{"no token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRegistration()
			tc.edit(&r)
			_, err := r.Secret()
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want one containing %q", err, want)
				}
			}
		})
	}
}

func TestParseLocality(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    model.Locality
		wantErr bool
	}{
		{in: ""},
		{in: "us-east", want: model.Locality{Region: "us-east"}},
		{in: "us-east/us-east-1a", want: model.Locality{Region: "us-east", Zone: "us-east-1a"}},
		{in: "us-east/us-east-1a/rack-1", want: model.Locality{Region: "us-east", Zone: "us-east-1a", Subzone: "rack-1"}},
		{in: "us-east//rack-1", wantErr: true},
		{in: "/us-east-1a", wantErr: true},
		{in: "a/b/c/d", wantErr: true},
	} {
		got, err := ParseLocality(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseLocality(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestSecretYAML: the printed Secret decodes strictly as a v1 Secret (what
// `kubectl apply -f -` needs) to the same object, the kubeconfig readable
// under stringData.
func TestSecretYAML(t *testing.T) {
	r := baseRegistration()
	r.Network = "network-3"
	s, err := r.Secret()
	if err != nil {
		t.Fatal(err)
	}
	out, err := SecretYAML(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "token: token-abc") {
		t.Errorf("kubeconfig not readable in:\n%s", out)
	}
	obj, _, err := serializer.NewCodecFactory(clientgoscheme.Scheme, serializer.EnableStrict).UniversalDeserializer().Decode(out, nil, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := obj.(*corev1.Secret)
	if got.Name != s.Name || got.Namespace != s.Namespace || !cmp.Equal(got.Labels, s.Labels) ||
		!cmp.Equal(got.Annotations, s.Annotations) || got.Type != s.Type || got.StringData["kubeconfig"] != string(s.Data["kubeconfig"]) {
		t.Errorf("printed Secret decodes to\n%+v\nwant\n%+v", got, s)
	}
}
