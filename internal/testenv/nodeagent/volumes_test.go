package nodeagent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestVolumes writes a Pod's volumes from a fake API (this is about the
// files, not the API): secret items and modes, configMap keys, downward
// API, and a projected token renewed at 80% of its lifetime.
func TestVolumes(t *testing.T) {
	uid := int64(4242)
	client := fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"tls.crt": []byte("CRT"), "tls.key": []byte("KEY")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"Corefile": "whoami"}},
	)
	var issued atomic.Int32
	var audiences atomic.Value
	client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		req := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest)
		audiences.Store(fmt.Sprint(req.Spec.Audiences))
		n := issued.Add(1)
		// Two-second tokens: renewal due after 1.6 s.
		req.Status = authenticationv1.TokenRequestStatus{Token: fmt.Sprintf("token-%d", n), ExpirationTimestamp: metav1.NewTime(time.Now().Add(2 * time.Second))}
		return true, req, nil
	})
	mode, keyMode := int32(0o440), int32(0o400)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Spec: corev1.PodSpec{
			ServiceAccountName: "sa",
			SecurityContext:    &corev1.PodSecurityContext{RunAsUser: &uid},
			Volumes: []corev1.Volume{
				{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
					SecretName: "s", DefaultMode: &mode,
					Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "crt"}, {Key: "tls.key", Path: "sub/key", Mode: &keyMode}},
				}}},
				{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "causeway"}},
					{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
				}}}},
			},
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{cfg: Config{Client: client, Dir: t.TempDir()}, logf: t.Logf, ctx: ctx}
	p := newPodRuntime(a, pod)
	defer func() { cancel(); a.wg.Wait() }()
	if err := p.materializeVolumes(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		data string
		mode os.FileMode
	}{
		{"secret/crt", "CRT", 0o440},
		{"secret/sub/key", "KEY", 0o400},
		{"conf/Corefile", "whoami", 0o644},
		{"proj/token", "token-1", 0o644},
		{"proj/name", "p", 0o644},
	} {
		path := filepath.Join(p.dir, "volumes", tc.file)
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		data, _ := os.ReadFile(path)
		if string(data) != tc.data || fi.Mode().Perm() != tc.mode {
			t.Errorf("%s: %q mode %v, want %q mode %v", tc.file, data, fi.Mode().Perm(), tc.data, tc.mode)
		}
		// Owned by runAsUser, so the container's user reads even 0400 files.
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != uint32(uid) {
			t.Errorf("%s: not owned by runAsUser %d", tc.file, uid)
		}
	}
	if got := audiences.Load(); got != "[causeway]" {
		t.Errorf("token audiences %v, want [causeway]", got)
	}
	if fi, err := os.Stat(filepath.Join(p.dir, "volumes", "scratch")); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir: %v, %v", fi, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(filepath.Join(p.dir, "volumes", "proj", "token")); string(data) == "token-2" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("token not renewed within 5s of a 2s lifetime (issued %d)", issued.Load())
}
