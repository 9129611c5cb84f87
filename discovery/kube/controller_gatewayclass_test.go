package kube

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestFakeGatewayClassesAndControllerName: the management cluster's
// GatewayClasses reach the world through their informer, and the world
// answers to Options.ControllerName (serve --controller-name).
func TestFakeGatewayClassesAndControllerName(t *testing.T) {
	e := newFakeEnv(t)
	e.clusters["https://c1.test"] = fakeWorkload("c1", "10.1.0.1")
	e.secret("c1", "https://c1.test", "t", nil)
	classes := e.gw.GatewayV1().GatewayClasses()
	if _, err := classes.Create(context.Background(), &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Spec: gwv1.GatewayClassSpec{ControllerName: "example.com/mine"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, store, _ := e.run(Options{ControllerName: "example.com/mine"})

	waitFor(t, 5*time.Second, "GatewayClass mine in the world", func() error {
		w := store.Load()
		switch {
		case w == nil:
			return fmt.Errorf("no world yet")
		case w.GatewayClass("mine") == nil:
			return fmt.Errorf("GatewayClasses %v, want mine", w.GatewayClasses())
		case w.ControllerName() != "example.com/mine":
			return fmt.Errorf("controllerName %q, want example.com/mine", w.ControllerName())
		}
		return nil
	})

	t.Log("a GatewayClass added at runtime")
	if _, err := classes.Create(context.Background(), &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "theirs"}, Spec: gwv1.GatewayClassSpec{ControllerName: "example.com/theirs"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "GatewayClass theirs in the world", func() error {
		w := store.Load()
		if w.GatewayClass("theirs") == nil || w.ControllerName() != "example.com/mine" {
			return fmt.Errorf("GatewayClasses %d (theirs missing?), controllerName %q", len(w.GatewayClasses()), w.ControllerName())
		}
		return nil
	})
}
