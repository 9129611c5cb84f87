package file

import (
	"fmt"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/model"
)

// docResult is what one document yields on its own: everything that
// depends only on its bytes, not on its place in the file nor on the other
// documents. A reload reuses it for each document whose bytes did not
// change (docCache); parser.addDocument numbers it and checks it against
// the others. It is not modified once made, but for the Service it
// remembers building (serviceBuild).
type docResult struct {
	// blank is a document of only comments or whitespace: it has no number.
	blank bool
	// syntax is the error of a document that is not YAML, its "line N:"
	// counted from the document's first line.
	syntax string
	ref    docRef     // kind, namespace and name; file, index and line are the load's
	errs   []docError // the document's own problems, in the order found
	// key is the object's identity, for duplicates, and add puts the
	// object into the world; add is nil when the document has problems.
	key string
	add func(p *parser, d docRef)
	// service, vd and route are the object of a valid Service,
	// VirtualDestination (without its Age.Seq) or HTTPRoute document, for
	// a snapshot made from the last (docCache.snapshot).
	service *serviceBuild
	vd      *model.VirtualDestination
	route   *model.HTTPRoute
}

// docError is a problem of a document, kept apart from the document's
// number and line so that it can be reported wherever the document is now.
type docError struct {
	field, msg string
	docLines   bool // msg's "line N:" counts from the document's first line
}

// docParser parses one document into its docResult.
type docParser struct {
	docResult
}

// parseDocument parses one document on its own.
func parseDocument(data []byte) *docResult {
	dp := &docParser{}
	dp.parse(data)
	return &dp.docResult
}

func (dp *docParser) parse(data []byte) {
	var probe any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		dp.syntax = err.Error()
		return
	}
	if probe == nil {
		dp.blank = true
		return
	}
	var h header
	if !dp.decodeHeader(data, &h) {
		return
	}
	dp.ref.kind, dp.ref.name = h.Kind, h.Metadata.Name
	switch {
	case h.Kind == "Cluster", h.Kind == "Workspace" && h.APIVersion == networkAPIVersion,
		h.Kind == "GatewayClass" && h.APIVersion == gatewayAPIVersion, h.Kind == "Namespace" && h.APIVersion == coreAPIVersion:
		// cluster-scoped
	default:
		dp.ref.namespace = h.Metadata.Namespace
		if dp.ref.namespace == "" {
			dp.ref.namespace = defaultNamespace
		}
	}
	switch {
	case h.Kind == "":
		dp.errorf("", "kind is missing (%s)", supportedKinds)
	case h.APIVersion == "":
		dp.errorf("", "apiVersion is missing (%s)", supportedKinds)
	case h.APIVersion == worldAPIVersion && h.Kind == "Cluster":
		dp.parseCluster(data)
	case h.APIVersion == worldAPIVersion && h.Kind == "Service":
		dp.parseService(data)
	case h.APIVersion == networkAPIVersion && h.Kind == "VirtualDestination":
		dp.parseVirtualDestination(data)
	case h.APIVersion == networkAPIVersion && h.Kind == "ExternalService":
		dp.parseExternalService(data)
	case h.APIVersion == networkAPIVersion && h.Kind == "FailoverPolicy":
		dp.parseFailoverPolicy(data)
	case h.APIVersion == networkAPIVersion && h.Kind == "OutlierDetectionPolicy":
		dp.parseOutlierDetectionPolicy(data)
	case h.APIVersion == networkAPIVersion && h.Kind == "Workspace":
		dp.parseWorkspace(data)
	case h.APIVersion == gatewayAPIVersion && h.Kind == "GatewayClass":
		dp.parseGatewayClass(data)
	case h.APIVersion == coreAPIVersion && h.Kind == "Namespace":
		dp.parseNamespace(data)
	case h.APIVersion == coreAPIVersion && h.Kind == "Secret":
		dp.parseSecret(data)
	case h.APIVersion == gatewayAPIVersion && h.Kind == "Gateway":
		dp.parseGateway(data)
	case h.APIVersion == gatewayAPIVersion && h.Kind == "HTTPRoute":
		dp.parseHTTPRoute(data)
	case h.APIVersion == gatewayBetaAPIVersion && h.Kind == "ReferenceGrant":
		dp.parseReferenceGrant(data)
	default:
		dp.errorf("", "unsupported apiVersion %q kind %q (%s)", h.APIVersion, h.Kind, supportedKinds)
	}
}

// supportedKinds lists the documents a world file may hold.
var supportedKinds = fmt.Sprintf("want %s Cluster or Service, %s VirtualDestination, ExternalService, FailoverPolicy, OutlierDetectionPolicy or Workspace, %s GatewayClass, Gateway or HTTPRoute, %s ReferenceGrant, %s Namespace or Secret",
	worldAPIVersion, networkAPIVersion, gatewayAPIVersion, gatewayBetaAPIVersion, coreAPIVersion)

// decodeHeader decodes a document's kind and metadata leniently (other
// fields are the kind's to check), reporting a wrong-typed one by its path.
func (dp *docParser) decodeHeader(data []byte, h *header) bool {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		dp.errs = append(dp.errs, docError{msg: err.Error(), docLines: true})
		return false
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, h); err != nil {
		field, msg := describeDecodeError(js, err)
		dp.errorf(field, "%s", msg)
		return false
	}
	return true
}

// errorf records a problem with a field of the document ("" for the document as a whole).
func (dp *docParser) errorf(field, format string, args ...any) {
	dp.errs = append(dp.errs, docError{field: field, msg: fmt.Sprintf(format, args...)})
}

// accept makes the document's object, named key, part of the world: add
// puts it there once the parser has checked it is no duplicate.
func (dp *docParser) accept(key string, add func(p *parser, d docRef)) {
	dp.key, dp.add = key, add
}

// decodeStrict decodes data into out, rejecting unknown and duplicate
// fields. sigs.k8s.io/json names the full path of an unknown field
// ("spec.ports[0].colour"), which encoding/json does not.
func (dp *docParser) decodeStrict(data []byte, out any) bool {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		dp.errs = append(dp.errs, docError{msg: err.Error(), docLines: true})
		return false
	}
	strictErrs, err := sigsjson.UnmarshalStrict(js, out)
	if err != nil {
		field, msg := describeDecodeError(js, err)
		dp.errorf(field, "%s", msg)
		return false
	}
	for _, e := range strictErrs {
		dp.errorf("", "%s", strings.TrimPrefix(e.Error(), "json: "))
	}
	return len(strictErrs) == 0
}
