package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/internal/yamldoc"
)

// ManifestSet collects the objects of plain Kubernetes manifests, the YAML
// a user would `kubectl apply`, for BuildWorld: workload kinds (Service,
// EndpointSlice, Pod, Node) go to the cluster named when adding the file;
// Causeway's CRs and Gateway API objects go to the one config set,
// whichever file they are in.
type ManifestSet struct {
	Workloads map[string]*WorkloadObjects
	Config    ConfigObjects

	seen map[string]string // object identity → where it was first defined
}

// NewManifestSet returns an empty set.
func NewManifestSet() *ManifestSet {
	return &ManifestSet{Workloads: map[string]*WorkloadObjects{}, seen: map[string]string{}}
}

// manifestKinds are the kinds a manifest may hold, in the order errors
// list them.
var manifestKinds = []schema.GroupVersionKind{
	corev1.SchemeGroupVersion.WithKind("Service"),
	corev1.SchemeGroupVersion.WithKind("Pod"),
	corev1.SchemeGroupVersion.WithKind("Node"),
	discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"),
	v1alpha1.SchemeGroupVersion.WithKind("VirtualDestination"),
	v1alpha1.SchemeGroupVersion.WithKind("ExternalService"),
	v1alpha1.SchemeGroupVersion.WithKind("FailoverPolicy"),
	v1alpha1.SchemeGroupVersion.WithKind("OutlierDetectionPolicy"),
	v1alpha1.SchemeGroupVersion.WithKind("Workspace"),
	v1alpha1.SchemeGroupVersion.WithKind("GatewayParameters"),
	gwv1.SchemeGroupVersion.WithKind("GatewayClass"),
	gwv1.SchemeGroupVersion.WithKind("Gateway"),
	gwv1.SchemeGroupVersion.WithKind("HTTPRoute"),
	gwv1beta1.SchemeGroupVersion.WithKind("Gateway"),
	gwv1beta1.SchemeGroupVersion.WithKind("HTTPRoute"),
	gwv1beta1.SchemeGroupVersion.WithKind("ReferenceGrant"),
	// Secrets: only kubernetes.io/tls ones are read (HTTPS listeners'
	// certificates), as the informer reads them; others are skipped.
	corev1.SchemeGroupVersion.WithKind("Secret"),
}

// manifestDecoder decodes the kinds above strictly: an unknown or
// duplicate field is an error naming its path, as kubectl's server-side
// field validation would report it.
var manifestDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(discoveryv1.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	utilruntime.Must(gwv1.Install(scheme))
	utilruntime.Must(gwv1beta1.Install(scheme))
	// The documents are converted to JSON once (see manifestJSON), so the
	// serializer reads JSON; duplicate YAML fields are found in that
	// conversion and reported as the YAML serializer would.
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: false, Strict: true})
}()

// Add reads path, a manifest file or a directory whose *.yaml, *.yml and
// *.json files (not subdirectories) are read in name order, into the set;
// workload objects go to cluster. Every problem is reported, one a line,
// each naming the file, the document and the field; objects without
// problems are added regardless.
func (s *ManifestSet) Add(cluster, path string) error {
	if cluster == "" {
		return errors.New("a cluster name is required")
	}
	files, err := manifestFiles(path)
	if err != nil {
		return err
	}
	var errs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, e := range s.addData(cluster, f, data) {
			errs = append(errs, e.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

func manifestFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files in the directory", path)
	}
	sort.Strings(files)
	return files, nil
}

// manifestHeader is read leniently first, to dispatch and to name the
// document in errors even when strict decoding fails.
type manifestHeader struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// manifestJSON is one document converted from YAML to JSON, once: its
// header, and what strict decoding reads.
type manifestJSON struct {
	yaml []byte // the document as written, for lenient header fallback
	json []byte
	// dupErr is the error strict YAML conversion gave for a duplicate
	// field, which the strict decoder reports before the JSON errors.
	dupErr error
}

// toManifestJSON converts a YAML document to JSON, parsing it once when
// it has no duplicate fields. The error is the one yaml.Unmarshal would
// give for invalid YAML.
func toManifestJSON(doc []byte) (manifestJSON, error) {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err == nil {
		return manifestJSON{yaml: doc, json: j}, nil
	}
	// Either invalid YAML or a duplicate field: the lenient conversion
	// tells them apart, as the YAML serializer's two conversions did.
	j, lerr := yaml.YAMLToJSON(doc)
	if lerr != nil {
		return manifestJSON{}, fmt.Errorf("error converting YAML to JSON: %w", lerr)
	}
	return manifestJSON{yaml: doc, json: j, dupErr: err}, nil
}

// addData decodes every document of one file.
func (s *ManifestSet) addData(cluster, file string, data []byte) []error {
	var errs []error
	index := 0
	for _, doc := range yamldoc.Split(data) {
		m, err := toManifestJSON(doc.Data)
		if err != nil {
			index++
			errs = append(errs, fmt.Errorf("%s: document %d (line %d): invalid YAML: %s", file, index, doc.Line, oneLine(yamldoc.FileLines(err.Error(), doc.Line))))
			continue
		}
		if bytes.Equal(m.json, []byte("null")) {
			continue // only comments or whitespace
		}
		index++
		errs = append(errs, s.addDocument(cluster, fmt.Sprintf("%s: document %d", file, index), m)...)
	}
	return errs
}

// readHeader reads the header of a document leniently. It reads the JSON
// and, only when that fails, the YAML as before: reading YAML into the
// header's string fields turns scalars such as 123 or true into strings,
// and its errors are the ones reported.
func readHeader(m manifestJSON, h *manifestHeader) error {
	if err := json.Unmarshal(m.json, h); err == nil {
		return nil
	}
	*h = manifestHeader{}
	src := m.yaml
	if src == nil {
		src = m.json
	}
	return yaml.Unmarshal(src, h)
}

// addDocument decodes one document (where names it), expanding Lists.
func (s *ManifestSet) addDocument(cluster, where string, m manifestJSON) []error {
	var h manifestHeader
	if err := readHeader(m, &h); err != nil {
		return []error{fmt.Errorf("%s: %s", where, oneLine(err.Error()))}
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		// kubectl get -o yaml prints a v1 List; typed lists (ServiceList)
		// may leave apiVersion and kind out of their items.
		var errs []error
		for i, item := range h.Items {
			var ih manifestHeader
			if err := json.Unmarshal(item, &ih); err == nil && ih.APIVersion == "" && ih.Kind == "" && h.Kind != "List" {
				item = withTypeMeta(item, h.APIVersion, strings.TrimSuffix(h.Kind, "List"))
			}
			errs = append(errs, s.addDocument(cluster, fmt.Sprintf("%s items[%d]", where, i), manifestJSON{json: item})...)
		}
		return errs
	}
	gvk := schema.FromAPIVersionAndKind(h.APIVersion, h.Kind)
	namespaced := gvk.Kind != "Node" && gvk != v1alpha1.SchemeGroupVersion.WithKind("Workspace") && gvk != gwv1.SchemeGroupVersion.WithKind("GatewayClass")
	namespace := h.Metadata.Namespace
	if namespaced && namespace == "" {
		namespace = "default" // as kubectl applies it without --namespace
	}
	loc := where // where the object is, for "first defined in"
	id := h.Kind
	switch {
	case h.Kind == "":
	case h.Metadata.Name != "" && namespaced:
		id += " " + namespace + "/" + h.Metadata.Name
	case h.Metadata.Name != "":
		id += " " + h.Metadata.Name
	}
	if id != "" {
		where += " (" + id + ")"
	}
	if h.APIVersion == "" || h.Kind == "" {
		return []error{fmt.Errorf("%s: apiVersion and kind are required", where)}
	}
	if !supportedManifestKind(gvk) {
		return []error{fmt.Errorf("%s: unsupported apiVersion %q kind %q; supported: %s", where, h.APIVersion, h.Kind, supportedManifestKinds())}
	}
	if h.Metadata.Name == "" {
		return []error{fmt.Errorf("%s: metadata.name: is required", where)}
	}
	obj, _, err := manifestDecoder.Decode(m.json, nil, nil)
	if err == nil && m.dupErr != nil {
		err = runtime.NewStrictDecodingError([]error{m.dupErr})
	} else if strict, ok := runtime.AsStrictDecodingError(err); ok && m.dupErr != nil {
		err = runtime.NewStrictDecodingError(append([]error{m.dupErr}, strict.Errors()...))
	}
	if strict, ok := runtime.AsStrictDecodingError(err); ok {
		errs := make([]error, 0, len(strict.Errors()))
		for _, e := range strict.Errors() {
			errs = append(errs, fmt.Errorf("%s: %s", where, oneLine(strings.TrimPrefix(e.Error(), "json: "))))
		}
		return errs
	} else if err != nil {
		return []error{fmt.Errorf("%s: %s", where, oneLine(strings.TrimPrefix(err.Error(), "json: ")))}
	}
	key := id
	if isWorkloadObject(obj) {
		key = "cluster " + cluster + ": " + id
	}
	if first, dup := s.seen[key]; dup {
		return []error{fmt.Errorf("%s: duplicate %s, first defined in %s", where, id, first)}
	}
	s.seen[key] = loc
	s.store(cluster, namespace, obj)
	return nil
}

func isWorkloadObject(obj runtime.Object) bool {
	switch obj.(type) {
	case *corev1.Service, *corev1.Pod, *corev1.Node, *discoveryv1.EndpointSlice:
		return true
	}
	return false
}

// store files a decoded object (one of manifestKinds) where it belongs.
func (s *ManifestSet) store(cluster, namespace string, obj runtime.Object) {
	w := s.Workloads[cluster]
	if w == nil && isWorkloadObject(obj) {
		w = &WorkloadObjects{}
		s.Workloads[cluster] = w
	}
	c := &s.Config
	switch o := obj.(type) {
	case *corev1.Service:
		o.Namespace = namespace
		w.Services = append(w.Services, o)
	case *corev1.Pod:
		o.Namespace = namespace
		w.Pods = append(w.Pods, o)
	case *corev1.Node:
		o.Namespace = ""
		w.Nodes = append(w.Nodes, o)
	case *discoveryv1.EndpointSlice:
		o.Namespace = namespace
		w.EndpointSlices = append(w.EndpointSlices, o)
	case *v1alpha1.VirtualDestination:
		o.Namespace = namespace
		c.VirtualDestinations = append(c.VirtualDestinations, o)
	case *v1alpha1.ExternalService:
		o.Namespace = namespace
		c.ExternalServices = append(c.ExternalServices, o)
	case *v1alpha1.FailoverPolicy:
		o.Namespace = namespace
		c.FailoverPolicies = append(c.FailoverPolicies, o)
	case *v1alpha1.OutlierDetectionPolicy:
		o.Namespace = namespace
		c.OutlierDetectionPolicies = append(c.OutlierDetectionPolicies, o)
	case *v1alpha1.Workspace:
		o.Namespace = "" // cluster-scoped, as for a Node
		c.Workspaces = append(c.Workspaces, o)
	case *v1alpha1.GatewayParameters:
		o.Namespace = namespace
		c.GatewayParameters = append(c.GatewayParameters, o)
	case *gwv1.GatewayClass:
		o.Namespace = "" // cluster-scoped
		c.GatewayClasses = append(c.GatewayClasses, o)
	case *gwv1.Gateway:
		o.Namespace = namespace
		c.Gateways = append(c.Gateways, o)
	case *gwv1beta1.Gateway: // same schema as v1; the model uses v1
		g := gwv1.Gateway(*o)
		g.Namespace, g.APIVersion = namespace, gwv1.GroupVersion.String()
		c.Gateways = append(c.Gateways, &g)
	case *gwv1.HTTPRoute:
		o.Namespace = namespace
		c.HTTPRoutes = append(c.HTTPRoutes, o)
	case *gwv1beta1.HTTPRoute:
		r := gwv1.HTTPRoute(*o)
		r.Namespace, r.APIVersion = namespace, gwv1.GroupVersion.String()
		c.HTTPRoutes = append(c.HTTPRoutes, &r)
	case *gwv1beta1.ReferenceGrant:
		o.Namespace = namespace
		c.ReferenceGrants = append(c.ReferenceGrants, o)
	case *corev1.Secret:
		if o.Type != corev1.SecretTypeTLS {
			return
		}
		for k, v := range o.StringData { // as the API server merges it on write
			if o.Data == nil {
				o.Data = map[string][]byte{}
			}
			o.Data[k] = []byte(v)
		}
		o.Namespace = namespace
		kept, _ := transformTLSSecret(o)
		c.TLSSecrets = append(c.TLSSecrets, kept.(*corev1.Secret))
	}
}

func supportedManifestKind(gvk schema.GroupVersionKind) bool {
	for _, k := range manifestKinds {
		if k == gvk {
			return true
		}
	}
	return false
}

func supportedManifestKinds() string {
	var out []string
	for _, k := range manifestKinds {
		out = append(out, k.GroupVersion().String()+" "+k.Kind)
	}
	return strings.Join(out, ", ")
}

// withTypeMeta adds apiVersion and kind to a list item that lacks them.
func withTypeMeta(item json.RawMessage, apiVersion, kind string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(item, &m); err != nil {
		return item // let strict decoding report it
	}
	m["apiVersion"], _ = json.Marshal(apiVersion)
	m["kind"], _ = json.Marshal(kind)
	out, err := json.Marshal(m)
	if err != nil {
		return item
	}
	return out
}

// oneLine keeps a multi-line error (YAML lists several) on one line, so
// that every reported problem is one line of output.
func oneLine(msg string) string { return strings.Join(strings.Fields(msg), " ") }
