package onboard

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/examples/kubernetes"
)

// Files of workload-cluster/ that options leave out.
const (
	// ProvisionerFile lets serve --provision deploy Gateway proxies;
	// without provisioning it is not needed.
	ProvisionerFile = "provisioner.yaml"
	// TokenFile is the long-lived token Secret; a TokenRequest token
	// (--token-duration) replaces it.
	TokenFile = "token.yaml"
)

// manifestDir is the embedded directory.
const manifestDir = "workload-cluster"

// kind is how an object of one kind is applied.
type kind struct {
	resource   schema.GroupVersionResource
	namespaced bool
}

// kinds are the kinds workload-cluster/ may hold. A manifest of another
// kind fails Manifests (and its test) rather than being applied blindly.
var kinds = map[schema.GroupVersionKind]kind{
	{Version: "v1", Kind: "Namespace"}:      {schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, false},
	{Version: "v1", Kind: "ServiceAccount"}: {schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, true},
	{Version: "v1", Kind: "Secret"}:         {schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, true},
	rbac("ClusterRole"):                     {rbacResource("clusterroles"), false},
	rbac("ClusterRoleBinding"):              {rbacResource("clusterrolebindings"), false},
	rbac("Role"):                            {rbacResource("roles"), true},
	rbac("RoleBinding"):                     {rbacResource("rolebindings"), true},
}

func rbac(k string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: k}
}

func rbacResource(r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: r}
}

// Object is one manifest to apply.
type Object struct {
	*unstructured.Unstructured
	Resource schema.GroupVersionResource
	// File is the manifest file it comes from, for messages.
	File string
}

// Describe names the object: "ClusterRole causeway-workload-reader",
// "Secret causeway-system/causeway-reader-token".
func (o Object) Describe() string {
	if ns := o.GetNamespace(); ns != "" {
		return o.GetKind() + " " + ns + "/" + o.GetName()
	}
	return o.GetKind() + " " + o.GetName()
}

// kustomization is the part of kustomize's format workload-cluster/ uses,
// decoded strictly: a kustomization that starts using patches or other
// transformers must fail here rather than be applied without them.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
}

// Manifests returns the objects of workload-cluster/ in the order its
// kustomization.yaml lists the files, with the kustomization's namespace
// on every namespaced object (as kustomize sets it), leaving out the
// files named in skip.
func Manifests(skip ...string) ([]Object, error) {
	return manifestsFrom(kubernetes.WorkloadCluster, manifestDir, skip...)
}

func manifestsFrom(fsys fs.FS, dir string, skip ...string) ([]Object, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return nil, fmt.Errorf("%s/kustomization.yaml: %w", dir, err)
	}
	var out []Object
	for _, file := range k.Resources {
		if slices.Contains(skip, file) {
			continue
		}
		objs, err := decodeFile(fsys, path.Join(dir, file), k.Namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func decodeFile(fsys fs.FS, file, namespace string) ([]Object, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	var out []Object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", file, i, err)
		}
		if len(u.Object) == 0 {
			continue // only comments
		}
		k, ok := kinds[u.GroupVersionKind()]
		if !ok {
			return nil, fmt.Errorf("%s document %d: kind %s is not one create-remote-secret applies", file, i, u.GroupVersionKind())
		}
		if k.namespaced && namespace != "" {
			u.SetNamespace(namespace)
		}
		out = append(out, Object{Unstructured: u, Resource: k.resource, File: path.Base(file)})
	}
}
