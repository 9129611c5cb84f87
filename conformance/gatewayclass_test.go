package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	"sigs.k8s.io/gateway-api/pkg/features"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/translator"
)

const (
	// gatewayClassName is the class the suite's Gateways use
	// (GatewayClassName option); the suite expects it to exist.
	gatewayClassName = "causeway"
	// controllerName is serve's default --controller-name.
	controllerName = "causeway.dev/gateway-controller"
	// classAcceptedWithin bounds serve's first status write of the class.
	classAcceptedWithin = 60 * time.Second
)

// createGatewayClass creates the class the suite runs against and waits
// until serve has accepted it and announced its supported features, which
// must be what the translator declares (translator.SupportedFeatures): the
// suite reads them from the class status to choose its tests.
func createGatewayClass(t *testing.T, cfg *rest.Config) []features.FeatureName {
	t.Helper()
	gw, err := gwclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	class := &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: gatewayClassName},
		Spec:       gwv1.GatewayClassSpec{ControllerName: controllerName},
	}
	if _, err := gw.GatewayV1().GatewayClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("GatewayClass %s: %v", gatewayClassName, err)
	}
	var got []gwv1.SupportedFeature
	err = e2eutil.Eventually(classAcceptedWithin, 200*time.Millisecond, func() error {
		cur, err := gw.GatewayV1().GatewayClasses().Get(ctx, gatewayClassName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(cur.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted)) {
			return fmt.Errorf("not Accepted: conditions %v", cur.Status.Conditions)
		}
		if len(cur.Status.SupportedFeatures) == 0 {
			return errors.New("Accepted but status.supportedFeatures is empty")
		}
		got = cur.Status.SupportedFeatures
		return nil
	})
	if err != nil {
		t.Fatalf("GatewayClass %s within %v: %v", gatewayClassName, classAcceptedWithin, err)
	}
	want := translator.SupportedFeatures()
	if !slices.Equal(got, want) {
		t.Fatalf("GatewayClass %s status.supportedFeatures = %v, want translator.SupportedFeatures() %v", gatewayClassName, got, want)
	}
	names := make([]features.FeatureName, 0, len(got))
	for _, f := range got {
		names = append(names, features.FeatureName(f.Name))
	}
	return names
}
