package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/internal/yamldoc"
)

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

// parsedDocument is one document parsed and decoded, not yet added.
type parsedDocument struct {
	yamlErr string // the document is not YAML
	empty   bool   // only comments or whitespace
	objects []decodedObject
}

// decodedObject is one object of a document (a List has several), or the
// problems that kept it out. where and loc follow the document's name
// ("<file>: document N"), which is known only in file order.
type decodedObject struct {
	where string   // " items[i] (Kind ns/name)": what errors name
	loc   string   // " items[i]": what "first defined in" names
	errs  []string // each reported as "<document><where>: <err>"
	obj   runtime.Object
	// key identifies the object among the set's (workload objects per
	// cluster); id names it.
	key, id, namespace string
}

func parseDocument(cluster string, doc yamldoc.Document) parsedDocument {
	if plainJSONObject(doc.Data) {
		// Already the JSON the YAML conversion would give (up to key
		// order and spacing): decode it as is, and take the YAML path
		// after all if anything is wrong, for its exact messages.
		objects := decodeDocument(cluster, "", manifestJSON{yaml: doc.Data, json: doc.Data}, nil)
		if !anyErrors(objects) {
			return parsedDocument{objects: objects}
		}
	}
	m, err := toManifestJSON(doc.Data)
	if err != nil {
		return parsedDocument{yamlErr: oneLine(yamldoc.FileLines(err.Error(), doc.Line))}
	}
	if bytes.Equal(m.json, []byte("null")) {
		return parsedDocument{empty: true}
	}
	return parsedDocument{objects: decodeDocument(cluster, "", m, nil)}
}

func anyErrors(objects []decodedObject) bool {
	for _, o := range objects {
		if len(o.errs) > 0 || o.obj == nil {
			return true
		}
	}
	return false
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

// decodeDocument decodes one document (where names it within its
// document), expanding Lists, and appends its objects to out. It touches
// no shared state, so documents decode in parallel.
func decodeDocument(cluster, where string, m manifestJSON, out []decodedObject) []decodedObject {
	failed := func(where string, errs ...string) []decodedObject {
		return append(out, decodedObject{where: where, errs: errs})
	}
	var h manifestHeader
	if err := readHeader(m, &h); err != nil {
		return failed(where, oneLine(err.Error()))
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		// kubectl get -o yaml prints a v1 List; typed lists (ServiceList)
		// may leave apiVersion and kind out of their items.
		for i, item := range h.Items {
			var ih manifestHeader
			if err := json.Unmarshal(item, &ih); err == nil && ih.APIVersion == "" && ih.Kind == "" && h.Kind != "List" {
				item = withTypeMeta(item, h.APIVersion, strings.TrimSuffix(h.Kind, "List"))
			}
			out = decodeDocument(cluster, fmt.Sprintf("%s items[%d]", where, i), manifestJSON{json: item}, out)
		}
		return out
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
		return failed(where, "apiVersion and kind are required")
	}
	if !supportedManifestKind(gvk) {
		return failed(where, fmt.Sprintf("unsupported apiVersion %q kind %q; supported: %s", h.APIVersion, h.Kind, supportedManifestKinds()))
	}
	if h.Metadata.Name == "" {
		return failed(where, "metadata.name: is required")
	}
	obj, _, err := manifestDecoder.Decode(m.json, nil, nil)
	if err == nil && m.dupErr != nil {
		err = runtime.NewStrictDecodingError([]error{m.dupErr})
	} else if strict, ok := runtime.AsStrictDecodingError(err); ok && m.dupErr != nil {
		err = runtime.NewStrictDecodingError(append([]error{m.dupErr}, strict.Errors()...))
	}
	if strict, ok := runtime.AsStrictDecodingError(err); ok {
		errs := make([]string, 0, len(strict.Errors()))
		for _, e := range strict.Errors() {
			errs = append(errs, oneLine(strings.TrimPrefix(e.Error(), "json: ")))
		}
		return failed(where, errs...)
	} else if err != nil {
		return failed(where, oneLine(strings.TrimPrefix(err.Error(), "json: ")))
	}
	key := id
	if isWorkloadObject(obj) {
		key = "cluster " + cluster + ": " + id
	}
	return append(out, decodedObject{where: where, loc: loc, obj: obj, key: key, id: id, namespace: namespace})
}
