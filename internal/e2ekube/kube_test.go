package e2ekube

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// fieldManager owns every field this package applies.
const fieldManager = "causeway-e2ekube"

// apiTimeout bounds a single API call.
const apiTimeout = 10 * time.Second

// resources maps the kinds the tests write to their API resources, so no
// discovery round trip (and no RESTMapper cache) sits in the way.
var resources = map[string]struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}{
	"Namespace":          {schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, false},
	"Node":               {schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, false},
	"Service":            {schema.GroupVersionResource{Version: "v1", Resource: "services"}, true},
	"Pod":                {schema.GroupVersionResource{Version: "v1", Resource: "pods"}, true},
	"Secret":             {schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, true},
	"EndpointSlice":      {schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, true},
	"VirtualDestination": {vdResource, true},
	"GatewayClass":       {schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}, false},
	"Gateway":            {schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}, true},
	"HTTPRoute":          {schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}, true},
}

var vdResource = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "virtualdestinations"}

// kube is a dynamic client for one API server.
type kube struct {
	name string
	dyn  dynamic.Interface
}

func newKube(t *testing.T, name string, cfg *rest.Config) *kube {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &kube{name: name, dyn: dyn}
}

func (k *kube) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	r, ok := resources[obj.GetKind()]
	if !ok {
		return nil, fmt.Errorf("kind %s not in the test's resource table", obj.GetKind())
	}
	if r.namespaced {
		return k.dyn.Resource(r.gvr).Namespace(obj.GetNamespace()), nil
	}
	return k.dyn.Resource(r.gvr), nil
}

// apply server-side applies every object of the multi-document YAML, in
// order, the way `kubectl apply --server-side` would. Applying again with a
// field left out removes it: this package owns the fields it applied.
func (k *kube) apply(t *testing.T, manifests string) {
	t.Helper()
	if err := k.applyErr(manifests); err != nil {
		t.Fatalf("%s: %v", k.name, err)
	}
}

func (k *kube) applyErr(manifests string) error {
	objs, err := decode(manifests)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		ri, err := k.resource(obj)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		_, err = ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
		cancel()
		if err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// create creates the single object in manifest and returns the API error.
func (k *kube) create(manifest string) error {
	objs, err := decode(manifest)
	if err != nil {
		return err
	}
	if len(objs) != 1 {
		return fmt.Errorf("create: %d objects, want 1", len(objs))
	}
	ri, err := k.resource(objs[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	_, err = ri.Create(ctx, objs[0], metav1.CreateOptions{FieldManager: fieldManager})
	return err
}

// remove deletes every object of the YAML that exists.
func (k *kube) remove(t *testing.T, manifests string) {
	t.Helper()
	objs, err := decode(manifests)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		ri, err := k.resource(obj)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		err = ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("%s: delete %s %s/%s: %v", k.name, obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
}

// get reads one object.
func (k *kube) get(kind, namespace, name string) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	obj.SetKind(kind)
	obj.SetNamespace(namespace)
	ri, err := k.resource(obj)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	return ri.Get(ctx, name, metav1.GetOptions{})
}

// decode splits multi-document YAML into objects, skipping empty documents.
func decode(manifests string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(manifests), 4096)
	var out []*unstructured.Unstructured
	for i := 0; ; i++ {
		var m map[string]any
		if err := r.Decode(&m); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, fmt.Errorf("document %d: %w\n%s", i, err, manifests)
		}
		if len(m) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetKind() == "" || obj.GetName() == "" {
			return nil, fmt.Errorf("document %d has no kind or name", i)
		}
		out = append(out, obj)
	}
}

// awaitObject polls kind namespace/name every 200 ms until check accepts it,
// at most timeout, and fails t with check's last complaint.
func (k *kube) awaitObject(t *testing.T, timeout time.Duration, kind, namespace, name string, check func(*unstructured.Unstructured) error) *unstructured.Unstructured {
	t.Helper()
	var obj *unstructured.Unstructured
	err := e2eutil.Eventually(timeout, 200*time.Millisecond, func() error {
		var err error
		if obj, err = k.get(kind, namespace, name); err != nil {
			return err
		}
		return check(obj)
	})
	if err != nil {
		t.Fatalf("%s %s/%s in %s: not as expected within %v: %v", kind, namespace, name, k.name, timeout, err)
	}
	return obj
}
