package chart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// envHelm names the helm binary the tests render with (`make helm` builds
// the pinned version and sets it for make test).
const envHelm = "CAUSEWAY_HELM"

// namespace is where every rendering is installed, as the examples are.
const namespace = "causeway-system"

// helmVersion is the Makefile's HELM_VERSION: without $CAUSEWAY_HELM the
// tests look where `make helm` puts that version.
const helmVersion = "v4.3.2"

// helmBinary returns $CAUSEWAY_HELM, else `make helm`'s binary under
// ${XDG_CACHE_HOME:-$HOME/.cache}/causeway/helm, or skips (fails under
// CAUSEWAY_REQUIRE_E2E=1) when there is none.
func helmBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(envHelm)
	if bin == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			bin = filepath.Join(cache, "causeway", "helm", helmVersion, "helm")
		}
	}
	_, err := exec.LookPath(bin)
	if err != nil {
		msg := "the helm binary is needed to render the chart: %v (run `make helm`, or set " + envHelm + ")"
		if os.Getenv(kubeenv.EnvRequire) == "1" {
			t.Fatalf(kubeenv.EnvRequire+"=1 but "+msg, err)
		}
		t.Skipf("skipping: "+msg, err)
	}
	return bin
}

// render runs helm template for release with values (nil: the defaults)
// and returns its output; CRDs are included (--include-crds), first.
func render(t *testing.T, release string, values map[string]any) ([]byte, error) {
	t.Helper()
	bin := helmBinary(t)
	args := []string{"template", release, ".", "--namespace", namespace, "--include-crds"}
	if values != nil {
		data, err := yaml.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		// Not under t.TempDir: helm splits --values at commas, which
		// subtest names may have.
		dir, err := os.MkdirTemp("", "chart-values-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		f := filepath.Join(dir, "values.yaml")
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--values", f)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// mustRender is render failing the test on an error.
func mustRender(t *testing.T, release string, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	out, err := render(t, release, values)
	if err != nil {
		t.Fatalf("helm template %s: %v", release, err)
	}
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatalf("helm template %s: %v", release, err)
	}
	return objs
}

// scheme knows the built-in kinds and CRDs; strictDecoder rejects unknown
// and duplicate fields in them.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

var strictDecoder = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeAll splits a YAML stream into objects. Kinds the scheme knows are
// decoded strictly and converted back, so both renderings and hand-written
// manifests come out in one canonical form; others stay as written.
func decodeAll(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if scheme.Recognizes(u.GroupVersionKind()) {
			typed, _, err := strictDecoder.Decode(doc, nil, nil)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
			}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
			if err != nil {
				return nil, err
			}
			u = &unstructured.Unstructured{Object: m}
			// A typed object converted back omits its own apiVersion/kind.
			gvk := typed.GetObjectKind().GroupVersionKind()
			if gvk.Empty() {
				gvks, _, _ := scheme.ObjectKinds(typed)
				gvk = gvks[0]
			}
			u.SetGroupVersionKind(gvk)
		}
		out = append(out, u)
	}
}
