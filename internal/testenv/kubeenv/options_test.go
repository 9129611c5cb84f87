package kubeenv

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAddClustersWithOptions starts an Env with extra apiserver flags, adds
// a cluster to it later, and checks the added one runs with the flags, on
// the same etcd under its own prefix, and that names stay unique.
func TestAddClustersWithOptions(t *testing.T) {
	bins, err := FindBinaries()
	if err != nil {
		SkipOrFail(t, "%v", err)
	}
	extra := "--watch-cache-sizes=events#0"
	env, err := NewWithOptions(t.TempDir(), bins, Options{APIServerArgs: []string{extra}, StartParallel: 1}, "first")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := env.AddClusters("added"); err != nil {
		t.Fatal(err)
	}
	if got := env.Names(); !slices.Equal(got, []string{"added", "first"}) {
		t.Errorf("Names() = %v, want [added first]", got)
	}
	if err := env.AddClusters("first"); err == nil {
		t.Error("AddClusters accepted a name the Env already has")
	}
	if err := env.AddClusters("Not_A_Label"); err == nil {
		t.Error("AddClusters accepted a name that is not a DNS label")
	}
	added := env.Cluster("added")
	added.mu.Lock()
	args := added.proc.cmd.Args
	added.mu.Unlock()
	if !slices.Contains(args, extra) || !slices.Contains(args, "/added") {
		t.Errorf("added apiserver's command line %v lacks %s or its own etcd prefix", args, extra)
	}

	if added.PID() <= 0 || env.EtcdPID() <= 0 {
		t.Errorf("PIDs: apiserver %d, etcd %d; want both set", added.PID(), env.EtcdPID())
	}

	ctx := ctxFor(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "only-in-added"}}
	if _, err := added.Clientset().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create in added cluster: %v", err)
	}
	_, err = env.Cluster("first").Clientset().CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("first cluster sees the added cluster's namespace (err %v), want NotFound", err)
	}
}
