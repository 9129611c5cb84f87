package onboard

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
)

// ApplySecret writes the cluster Secret to the management cluster by
// server-side apply: created, or updated in place (a new kubeconfig is a
// rotation serve handles without losing endpoints). Annotations this
// command wrote before and no longer writes are removed; others' stay.
func ApplySecret(ctx context.Context, client kubernetes.Interface, s *corev1.Secret) error {
	ac := corev1ac.Secret(s.Name, s.Namespace).
		WithLabels(s.Labels).
		WithAnnotations(s.Annotations).
		WithType(s.Type).
		WithData(s.Data)
	if _, err := client.CoreV1().Secrets(s.Namespace).Apply(ctx, ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("apply Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}
