package file

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"regexp"
	"strconv"

	"github.com/hashicorp/go-multierror"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/model"
)

// Load reads and parses the world file at path.
func Load(path string) (*model.Snapshot, error) {
	data, err := readWorld(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a multi-document world file; name prefixes every error. It
// returns every problem found, not just the first, as a *multierror.Error.
func Parse(name string, data []byte) (*model.Snapshot, error) {
	if len(data) > MaxWorldFileBytes {
		return nil, errTooLarge(name, int64(len(data)))
	}
	p := &parser{file: name, seen: map[string]int{}}
	index := 0
	for _, raw := range splitDocuments(data) {
		var probe any
		if err := yaml.Unmarshal(raw.data, &probe); err != nil {
			index++
			p.add(fmt.Errorf("%s: document %d (line %d): invalid YAML: %s", name, index, raw.line, fileLines(err.Error(), raw.line)))
			continue
		}
		if probe == nil {
			continue // only comments or whitespace
		}
		index++
		p.parseDocument(index, raw)
	}
	p.finishServices()
	p.checkGatewayClusters()
	if p.errs != nil {
		p.errs.ErrorFormat = listErrors
		return nil, p.errs
	}
	return model.NewSnapshot(p.world), nil
}

type rawDocument struct {
	data []byte
	line int // 1-based line of the document's first line
}

// splitDocuments splits a YAML stream at "---" lines (a separator may be
// followed by a comment) and remembers where each document starts so that
// syntax errors can point at a line.
func splitDocuments(data []byte) []rawDocument {
	var docs []rawDocument
	cur := rawDocument{line: 1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if isSeparator(text) {
			docs = append(docs, cur)
			cur = rawDocument{line: line + 1}
			continue
		}
		cur.data = append(cur.data, text...)
		cur.data = append(cur.data, '\n')
	}
	return append(docs, cur)
}

func isSeparator(line string) bool {
	if !strings.HasPrefix(line, "---") {
		return false
	}
	rest := strings.TrimSpace(line[3:])
	return rest == "" || strings.HasPrefix(rest, "#")
}

// parser accumulates the world and every error found in it.
type parser struct {
	file  string
	errs  *multierror.Error
	world model.World
	// seen maps an object identity to the document that defined it first.
	seen     map[string]int
	services []pendingService
	gateways []docRef
}

// docRef names one document in errors.
type docRef struct {
	file      string
	index     int
	line      int // first line of the document in the file
	kind      string
	namespace string
	name      string
}

func (d docRef) String() string {
	id := d.kind
	switch {
	case d.name != "" && d.namespace != "":
		id += " " + d.namespace + "/" + d.name
	case d.name != "":
		id += " " + d.name
	}
	if id == "" {
		return fmt.Sprintf("%s: document %d", d.file, d.index)
	}
	return fmt.Sprintf("%s: document %d (%s)", d.file, d.index, id)
}

func (p *parser) add(err error) { p.errs = multierror.Append(p.errs, err) }

// errorf records a problem with a field of document d ("" for the document as a whole).
func (p *parser) errorf(d docRef, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	p.add(fmt.Errorf("%s: %s", d, msg))
}

// unique reports whether the object identity is new, recording an error otherwise.
func (p *parser) unique(d docRef, key string) bool {
	if first, ok := p.seen[key]; ok {
		p.errorf(d, "metadata.name", "duplicate %s, first defined in document %d", key, first)
		return false
	}
	p.seen[key] = d.index
	return true
}

func (p *parser) parseDocument(index int, raw rawDocument) {
	data := raw.data
	var h header
	d := docRef{file: p.file, index: index, line: raw.line}
	if err := yaml.Unmarshal(data, &h); err != nil {
		p.errorf(d, "", "%v", err)
		return
	}
	d.kind, d.name = h.Kind, h.Metadata.Name
	switch {
	case d.kind == "Cluster", d.kind == "Workspace" && h.APIVersion == networkAPIVersion:
		// cluster-scoped
	default:
		d.namespace = h.Metadata.Namespace
		if d.namespace == "" {
			d.namespace = defaultNamespace
		}
	}
	switch {
	case h.APIVersion == worldAPIVersion && h.Kind == "Cluster":
		p.parseCluster(d, data)
	case h.APIVersion == worldAPIVersion && h.Kind == "Service":
		p.parseService(d, data)
	case h.APIVersion == networkAPIVersion && h.Kind == "VirtualDestination":
		p.parseVirtualDestination(d, data)
	case h.APIVersion == networkAPIVersion && h.Kind == "ExternalService":
		p.parseExternalService(d, data)
	case h.APIVersion == networkAPIVersion && h.Kind == "FailoverPolicy":
		p.parseFailoverPolicy(d, data)
	case h.APIVersion == networkAPIVersion && h.Kind == "OutlierDetectionPolicy":
		p.parseOutlierDetectionPolicy(d, data)
	case h.APIVersion == networkAPIVersion && h.Kind == "Workspace":
		p.parseWorkspace(d, data)
	case h.APIVersion == gatewayAPIVersion && h.Kind == "Gateway":
		p.parseGateway(d, data)
	case h.APIVersion == gatewayAPIVersion && h.Kind == "HTTPRoute":
		p.parseHTTPRoute(d, data)
	case h.APIVersion == gatewayBetaAPIVersion && h.Kind == "ReferenceGrant":
		p.parseReferenceGrant(d, data)
	default:
		p.errorf(d, "", "unsupported apiVersion %q kind %q (want %s Cluster or Service, %s VirtualDestination, ExternalService, FailoverPolicy, OutlierDetectionPolicy or Workspace, %s Gateway or HTTPRoute, %s ReferenceGrant)",
			h.APIVersion, h.Kind, worldAPIVersion, networkAPIVersion, gatewayAPIVersion, gatewayBetaAPIVersion)
	}
}

// decodeStrict decodes data into out, rejecting unknown and duplicate
// fields. sigs.k8s.io/json names the full path of an unknown field
// ("spec.ports[0].colour"), which encoding/json does not.
func (p *parser) decodeStrict(d docRef, data []byte, out any) bool {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		p.errorf(d, "", "%s", fileLines(err.Error(), d.line))
		return false
	}
	strictErrs, err := sigsjson.UnmarshalStrict(js, out)
	if err != nil {
		p.errorf(d, "", "%s", strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	for _, e := range strictErrs {
		p.errorf(d, "", "%s", strings.TrimPrefix(e.Error(), "json: "))
	}
	return len(strictErrs) == 0
}

var yamlLine = regexp.MustCompile(`\bline (\d+):`)

// fileLines rewrites "line N:" in a YAML error (relative to the document) into a line
// of the whole file, which is what an editor shows.
func fileLines(msg string, firstLine int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
		return fmt.Sprintf("line %d:", n+firstLine-1)
	})
}

// listErrors prints one error per line, without multierror's bullets, so
// that a single error reads like a plain one.
func listErrors(errs []error) string {
	lines := make([]string, len(errs))
	for i, err := range errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}
