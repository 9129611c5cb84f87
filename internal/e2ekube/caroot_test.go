package e2ekube

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// forgetCARoot deletes the CA root record (ConfigMap causeway-ca-root in
// namespace) that every serve on the shared management cluster leaves
// behind: a test that starts serve with a CA directory of its own would
// otherwise be refused, rightly, as a serve that lost its root. It runs
// now and again when the test ends, so the next test starts clean.
func forgetCARoot(t *testing.T, management kubernetes.Interface, namespace string) {
	t.Helper()
	forget := func() error {
		err := management.CoreV1().ConfigMaps(namespace).Delete(context.Background(), "causeway-ca-root", metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if err := forget(); err != nil {
		t.Fatalf("forgetting the CA root record: %v", err)
	}
	t.Cleanup(func() {
		if err := forget(); err != nil {
			t.Errorf("cleanup: forgetting the CA root record: %v", err)
		}
	})
}
