package kube

import (
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

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/internal/ordered"
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

// addData decodes every document of one file: the documents are parsed
// and decoded on all CPUs (parseDocument) and added in file order, so
// numbering, errors and duplicates are those of a sequential read.
func (s *ManifestSet) addData(cluster, file string, data []byte) []error {
	var errs []error
	docs := yamldoc.Split(data)
	index := 0
	_ = ordered.Each(len(docs), func(i int) parsedDocument {
		return parseDocument(cluster, docs[i])
	}, func(i int, d parsedDocument) error {
		switch {
		case d.yamlErr != "":
			index++
			errs = append(errs, fmt.Errorf("%s: document %d (line %d): invalid YAML: %s", file, index, docs[i].Line, d.yamlErr))
		case !d.empty:
			index++
			errs = append(errs, s.addObjects(cluster, fmt.Sprintf("%s: document %d", file, index), d.objects)...)
		}
		return nil
	})
	return errs
}

// addObjects adds a document's decoded objects (doc names it) in order,
// reporting their problems and duplicates.
func (s *ManifestSet) addObjects(cluster, doc string, objects []decodedObject) []error {
	var errs []error
	for _, o := range objects {
		where := doc + o.where
		for _, e := range o.errs {
			errs = append(errs, fmt.Errorf("%s: %s", where, e))
		}
		if o.obj == nil {
			continue
		}
		if first, dup := s.seen[o.key]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate %s, first defined in %s", where, o.id, first))
			continue
		}
		s.seen[o.key] = doc + o.loc
		s.store(cluster, o.namespace, o.obj)
	}
	return errs
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
