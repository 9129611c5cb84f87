package kubeenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/crds"
)

// gatewayAPIModule is the module whose standard-channel CRDs InstallCRDs
// applies: the same module (and so the same version) go.mod pins for the
// typed clients.
const gatewayAPIModule = "sigs.k8s.io/gateway-api"

// crdEstablishTimeout bounds the wait for every CRD to be Established.
const crdEstablishTimeout = 60 * time.Second

// InstallCRDs creates (or updates) Causeway's CRDs and the Gateway API
// standard-channel CRDs on the named cluster and waits until every one is
// Established. On a shared Env the second call for a cluster returns at
// once.
func (e *Env) InstallCRDs(t testing.TB, name string) {
	t.Helper()
	c := e.Cluster(name)
	e.crdMu.Lock()
	defer e.crdMu.Unlock()
	if e.crdsReady[name] {
		return
	}
	start := time.Now()
	defs, err := AllCRDs()
	if err != nil {
		t.Fatalf("kubeenv: %v", err)
	}
	if err := applyCRDs(context.Background(), c, defs); err != nil {
		t.Fatalf("kubeenv: cluster %s: %v", name, err)
	}
	e.crdsReady[name] = true
	t.Logf("kubeenv: %d CRDs established on %s in %v", len(defs), name, time.Since(start).Round(time.Millisecond))
}

var (
	crdsOnce sync.Once
	crdsList []*apiextensionsv1.CustomResourceDefinition
	crdsErr  error
)

// AllCRDs returns Causeway's CRDs (api/crds) followed by the Gateway API
// standard-channel CRDs. Callers must not modify the result.
func AllCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crdsOnce.Do(func() {
		own, err := readCRDs(crds.FS, ".")
		if err != nil {
			crdsErr = fmt.Errorf("causeway CRDs: %w", err)
			return
		}
		if len(own) == 0 {
			crdsErr = errors.New("causeway CRDs: api/crds embeds no CustomResourceDefinition")
			return
		}
		dir, err := gatewayAPIDir()
		if err != nil {
			crdsErr = err
			return
		}
		gw, err := readCRDs(os.DirFS(dir), ".")
		if err != nil {
			crdsErr = fmt.Errorf("gateway API CRDs in %s: %w", dir, err)
			return
		}
		if len(gw) == 0 {
			crdsErr = fmt.Errorf("gateway API CRDs: none in %s", dir)
			return
		}
		crdsList = append(own, gw...)
	})
	return crdsList, crdsErr
}

// gatewayAPIDir finds config/crd/standard of the gateway-api module this
// build uses, by `go list -m` in the working directory: `go test` runs a
// test inside its module, so this is the version go.mod pins.
func gatewayAPIDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gatewayAPIModule).Output()
	modDir := strings.TrimSpace(string(out))
	if err != nil || modDir == "" {
		var stderr string
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("cannot locate module %s (go list -m: %v %s; run `go mod download %s`)", gatewayAPIModule, err, stderr, gatewayAPIModule)
	}
	dir := filepath.Join(modDir, "config", "crd", "standard")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("gateway API standard CRDs: %w", err)
	}
	return dir, nil
}

// readCRDs decodes every CustomResourceDefinition in the *.yaml files of
// dir in fsys (files may hold several documents); other kinds are ignored.
func readCRDs(fsys fs.FS, dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := fs.Glob(fsys, filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if meta.Kind != "CustomResourceDefinition" {
				continue
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := yaml.UnmarshalStrict(doc, crd); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, crd)
		}
	}
	return out, nil
}

// applyCRDs creates each CRD, updating it when it already exists, then
// waits until all are Established.
func applyCRDs(ctx context.Context, c *Cluster, defs []*apiextensionsv1.CustomResourceDefinition) error {
	client, err := apiextensionsclient.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	api := client.ApiextensionsV1().CustomResourceDefinitions()
	for _, def := range defs {
		want := def.DeepCopy()
		_, err := api.Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			var cur *apiextensionsv1.CustomResourceDefinition
			if cur, err = api.Get(ctx, want.Name, metav1.GetOptions{}); err == nil {
				want.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, want, metav1.UpdateOptions{})
			}
		}
		if err != nil {
			return fmt.Errorf("apply CRD %s: %w", def.Name, err)
		}
	}
	const interval = 100 * time.Millisecond
	deadline := time.Now().Add(crdEstablishTimeout)
	for _, def := range defs {
		for {
			cur, err := api.Get(ctx, def.Name, metav1.GetOptions{})
			if err == nil && established(cur) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not Established within %v (last error: %v, conditions: %v)",
					def.Name, crdEstablishTimeout, err, conditionsOf(cur))
			}
			time.Sleep(interval)
		}
	}
	return nil
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	var est, names bool
	for _, c := range crd.Status.Conditions {
		switch c.Type {
		case apiextensionsv1.Established:
			est = c.Status == apiextensionsv1.ConditionTrue
		case apiextensionsv1.NamesAccepted:
			names = c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return est && names
}

func conditionsOf(crd *apiextensionsv1.CustomResourceDefinition) []string {
	if crd == nil {
		return nil
	}
	var out []string
	for _, c := range crd.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return out
}
