package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/causeway-dev/causeway/model"
)

// testKubeconfig renders a kubeconfig for server authenticating with token.
func testKubeconfig(t testing.TB, server, token string) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["c"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "c"}
	cfg.CurrentContext = "c"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// clusterSecret is a cluster Secret named name carrying kubeconfig.
func clusterSecret(name string, kubeconfig []byte, annotations map[string]string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "causeway-system", Name: name, ResourceVersion: "1",
			Labels: map[string]string{SecretLabel: "true"}, Annotations: annotations,
		},
		Data: map[string][]byte{},
	}
	if kubeconfig != nil {
		s.Data[SecretKubeconfigKey] = kubeconfig
	}
	return s
}

func TestSpecFromSecret(t *testing.T) {
	good := testKubeconfig(t, "https://127.0.0.1:6443", "token-a")
	cases := []struct {
		name        string
		secret      *corev1.Secret
		want        ClusterInfo
		wantHost    string
		wantErrHave []string // every string must be in the error
	}{
		{
			name:     "defaults from the Secret name",
			secret:   clusterSecret("cluster-2", good, nil),
			want:     ClusterInfo{Name: "cluster-2", Network: "cluster-2"},
			wantHost: "https://127.0.0.1:6443",
		},
		{
			name: "annotations",
			secret: clusterSecret("secret-x", good, map[string]string{
				SecretAnnotationClusterName: "cluster-3", SecretAnnotationNetwork: "net-a",
				SecretAnnotationRegion: "eu", SecretAnnotationZone: "eu-1", SecretAnnotationSubzone: "rack-1",
				SecretAnnotationEastWestGateways: "127.0.2.100:15443, 127.0.2.101:15444",
			}),
			want: ClusterInfo{
				Name: "cluster-3", Network: "net-a",
				Locality:         model.Locality{Region: "eu", Zone: "eu-1", Subzone: "rack-1"},
				EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}, {Address: "127.0.2.101", Port: 15444}},
			},
			wantHost: "https://127.0.0.1:6443",
		},
		{
			name:        "missing kubeconfig key",
			secret:      clusterSecret("cluster-2", nil, nil),
			wantErrHave: []string{"Secret causeway-system/cluster-2", `key "kubeconfig"`, "missing"},
		},
		{
			name:        "kubeconfig that is not YAML",
			secret:      clusterSecret("cluster-2", []byte("{{{"), nil),
			wantErrHave: []string{"Secret causeway-system/cluster-2", `key "kubeconfig"`},
		},
		{
			name:        "kubeconfig without a current context",
			secret:      clusterSecret("cluster-2", []byte("apiVersion: v1\nkind: Config\nclusters: []\n"), nil),
			wantErrHave: []string{"Secret causeway-system/cluster-2", `key "kubeconfig"`, "invalid configuration"},
		},
		{
			name:        "east-west gateway without a port",
			secret:      clusterSecret("cluster-2", good, map[string]string{SecretAnnotationEastWestGateways: "127.0.2.100"}),
			wantErrHave: []string{"Secret causeway-system/cluster-2", "annotation " + SecretAnnotationEastWestGateways, `entry 1 "127.0.2.100"`},
		},
		{
			name:        "east-west gateway port out of range",
			secret:      clusterSecret("cluster-2", good, map[string]string{SecretAnnotationEastWestGateways: "127.0.2.100:1,127.0.2.101:70000"}),
			wantErrHave: []string{"annotation " + SecretAnnotationEastWestGateways, `entry 2 "127.0.2.101:70000"`, "1-65535"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := specFromSecret(tc.secret)
			if len(tc.wantErrHave) > 0 {
				if err == nil {
					t.Fatalf("no error; want one containing %q", tc.wantErrHave)
				}
				for _, s := range tc.wantErrHave {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, spec.info); diff != "" {
				t.Errorf("info (-want +got):\n%s", diff)
			}
			if spec.rest.Host != tc.wantHost || spec.rest.BearerToken != "token-a" {
				t.Errorf("rest config host %q token %q", spec.rest.Host, spec.rest.BearerToken)
			}
			if spec.source != "Secret causeway-system/"+tc.secret.Name || spec.fingerprint == "" {
				t.Errorf("source %q fingerprint %q", spec.source, spec.fingerprint)
			}
		})
	}
}

func TestSpecFingerprintFollowsKubeconfig(t *testing.T) {
	a, err := specFromSecret(clusterSecret("c", testKubeconfig(t, "https://127.0.0.1:1", "a"), nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := specFromSecret(clusterSecret("c", testKubeconfig(t, "https://127.0.0.1:1", "b"), map[string]string{SecretAnnotationNetwork: "n"}))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := specFromSecret(clusterSecret("c", testKubeconfig(t, "https://127.0.0.1:1", "a"), map[string]string{SecretAnnotationNetwork: "n"}))
	if err != nil {
		t.Fatal(err)
	}
	if a.fingerprint == b.fingerprint {
		t.Error("different kubeconfigs share a fingerprint")
	}
	if a.fingerprint != a2.fingerprint {
		t.Error("annotations changed the kubeconfig fingerprint")
	}
}
