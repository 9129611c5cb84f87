package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	yaml "go.yaml.in/yaml/v2"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// appendYAML appends m as toYAML renders it, byte for byte, without
// toYAML's YAML round trip (parsing the JSON as YAML into a MapSlice and
// emitting that), which costs most of the time of a large translate. It
// walks the protojson output and writes yaml.v2's block layout itself;
// every scalar is rendered by yaml.v2 (cached) unless it is one whose
// rendering is certain (plain). A resource it cannot render with certainty
// (a scalar yaml.v2 would fold or spread over lines, a long or empty key)
// goes through toYAML.
func appendYAML(dst []byte, m proto.Message) ([]byte, error) {
	if rc, ok := m.(*routev3.RouteConfiguration); ok && len(rc.GetVirtualHosts()) > 1 {
		if out, err := appendRouteConfiguration(dst, rc); err == nil {
			return out, nil
		}
	} else if out, err := appendFast(dst, m); err == nil {
		return out, nil
	}
	y, err := toYAML(m)
	return append(dst, y...), err
}

// appendFast renders m through protojson and the emitter (errSlowPath
// when the emitter cannot).
func appendFast(dst []byte, m proto.Message) ([]byte, error) {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return dst, err
	}
	e := yamlEmitter{out: dst, in: js}
	if err := e.document(); err != nil {
		return dst, err
	}
	return e.out, nil
}

// appendRouteConfiguration renders a route configuration one virtual host
// at a time, so a gateway's configuration of tens of thousands of virtual
// hosts is never one protojson document: name first, then virtual_hosts
// (its next field in declaration order, protojson's), then the rest.
func appendRouteConfiguration(dst []byte, rc *routev3.RouteConfiguration) ([]byte, error) {
	rest := proto.Clone(rc).(*routev3.RouteConfiguration)
	rest.VirtualHosts = nil
	rest.Name = ""
	out := dst
	if rc.GetName() != "" {
		name, err := renderString(rc.GetName())
		if err != nil {
			return dst, err
		}
		out = append(append(append(out, "name: "...), name...), '\n')
	}
	out = append(out, "virtual_hosts:\n"...)
	for _, vh := range rc.GetVirtualHosts() {
		js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(vh)
		if err != nil {
			return dst, err
		}
		e := yamlEmitter{out: out, in: js}
		if err := e.sequenceItem(0); err != nil {
			return dst, err
		}
		out = e.out
	}
	if proto.Size(rest) == 0 {
		return out, nil
	}
	return appendFast(out, rest)
}

// errSlowPath: the resource needs yaml.v2 itself.
var errSlowPath = errors.New("resource needs the yaml.v2 round trip")

// yamlWidth is yaml.v2's best_width: past this column it breaks a scalar
// at a space.
const yamlWidth = 80

// maxSimpleKey bounds the keys written as "key:"; yaml.v2 writes keys
// longer than 128 characters in the "? key" form.
const maxSimpleKey = 100

type yamlEmitter struct {
	out []byte
	in  []byte // protojson output: valid JSON, with protojson's random spaces
	pos int
}

// document writes the top-level object, its "name" or "cluster_name" first
// (nameFirst).
func (e *yamlEmitter) document() error {
	e.skipSpace()
	if e.next() != '{' {
		return errSlowPath
	}
	type entry struct{ key, value []byte }
	var entries []entry
	for {
		e.skipSpace()
		if e.peek() == '}' {
			break
		}
		k, err := e.rawValue()
		if err != nil {
			return err
		}
		e.skipSpace()
		if e.next() != ':' {
			return errSlowPath
		}
		e.skipSpace()
		v, err := e.rawValue()
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, v})
		e.skipSpace()
		if e.peek() == ',' {
			e.pos++
		}
	}
	if len(entries) == 0 {
		e.out = append(e.out, "{}\n"...)
		return nil
	}
	for i, en := range entries {
		if string(en.key) == `"name"` || string(en.key) == `"cluster_name"` {
			first := en
			copy(entries[1:i+1], entries[:i])
			entries[0] = first
			break
		}
	}
	in := e.in
	defer func() { e.in = in }()
	for _, en := range entries {
		e.in, e.pos = en.key, 0
		key, err := e.keyScalar()
		if err != nil {
			return err
		}
		e.out = append(e.out, key...)
		e.out = append(e.out, ':')
		e.in, e.pos = en.value, 0
		if err := e.mappingValue(0, len(key)); err != nil {
			return err
		}
	}
	return nil
}

// mapping writes a non-empty object whose '{' was read, its keys at
// indent; the first key continues the current line when inline ("- k: v").
func (e *yamlEmitter) mapping(indent int, inline bool) error {
	for first := true; ; first = false {
		e.skipSpace()
		switch e.peek() {
		case '}':
			e.pos++
			return nil
		case ',':
			e.pos++
			e.skipSpace()
		}
		if !first || !inline {
			e.indent(indent)
		}
		key, err := e.keyScalar()
		if err != nil {
			return err
		}
		e.out = append(e.out, key...)
		e.out = append(e.out, ':')
		e.skipSpace()
		if e.next() != ':' {
			return errSlowPath
		}
		if err := e.mappingValue(indent, indent+len(key)); err != nil {
			return err
		}
	}
}

// mappingValue writes the value after "key:" (column is where the key
// ends): a scalar or empty collection on the same line, a mapping
// indented below, a sequence at the key's own indent (yaml.v2's layout).
func (e *yamlEmitter) mappingValue(indent, column int) error {
	return e.value('\n', indent+2, indent, false, column+2)
}

// sequence writes a non-empty array whose '[' was read, its dashes at
// indent.
func (e *yamlEmitter) sequence(indent int, inline bool) error {
	for first := true; ; first = false {
		e.skipSpace()
		switch e.peek() {
		case ']':
			e.pos++
			return nil
		case ',':
			e.pos++
			e.skipSpace()
		}
		if !first || !inline {
			e.indent(indent)
		}
		if err := e.sequenceItem(indent); err != nil {
			return err
		}
	}
}

// sequenceItem writes "- <value>" for the value ahead, its dash at indent
// (already indented): a collection starts on the dash's line.
func (e *yamlEmitter) sequenceItem(indent int) error {
	e.out = append(e.out, '-')
	return e.value(' ', indent+2, indent+2, true, indent+2)
}

// value writes the value ahead: an empty collection or a scalar (starting
// at column) on the current line; else sep, then a mapping at mapIndent or
// a sequence at seqIndent (inline: its first line continues this one).
func (e *yamlEmitter) value(sep byte, mapIndent, seqIndent int, inline bool, column int) error {
	e.skipSpace()
	switch e.peek() {
	case '{':
		e.pos++
		if e.emptyAhead('}') {
			e.out = append(e.out, " {}\n"...)
			return nil
		}
		e.out = append(e.out, sep)
		return e.mapping(mapIndent, inline)
	case '[':
		e.pos++
		if e.emptyAhead(']') {
			e.out = append(e.out, " []\n"...)
			return nil
		}
		e.out = append(e.out, sep)
		return e.sequence(seqIndent, inline)
	}
	return e.scalarLine(column)
}

// scalarLine writes " <scalar>\n"; column is where the scalar starts.
func (e *yamlEmitter) scalarLine(column int) error {
	s, err := e.valueScalar()
	if err != nil {
		return err
	}
	// yaml.v2 breaks a scalar only at a space past yamlWidth.
	if column+len(s) > yamlWidth && strings.IndexByte(s, ' ') >= 0 {
		return errSlowPath
	}
	e.out = append(e.out, ' ')
	e.out = append(e.out, s...)
	e.out = append(e.out, '\n')
	return nil
}

// keyScalar reads a JSON string and returns it as yaml.v2 writes a key.
func (e *yamlEmitter) keyScalar() (string, error) {
	if e.peek() != '"' {
		return "", errSlowPath
	}
	s, err := e.str()
	if err != nil {
		return "", err
	}
	if s == "" || len(s) > maxSimpleKey {
		return "", errSlowPath
	}
	return renderString(s)
}

// valueScalar reads a JSON string, number, true, false or null and
// returns it as yaml.v2 writes it.
func (e *yamlEmitter) valueScalar() (string, error) {
	if e.peek() == '"' {
		s, err := e.str()
		if err != nil {
			return "", err
		}
		return renderString(s)
	}
	start := e.pos
	for e.pos < len(e.in) {
		switch e.in[e.pos] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return renderToken(e.in[start:e.pos])
		}
		e.pos++
	}
	return renderToken(e.in[start:e.pos])
}

// str reads a JSON string of printable ASCII without escapes: anything
// else (escaped quotes and control characters, non-ASCII text, which YAML
// may read as a line break) is left to yaml.v2.
func (e *yamlEmitter) str() (string, error) {
	start := e.pos
	e.pos++
	for e.pos < len(e.in) {
		switch c := e.in[e.pos]; {
		case c == '"':
			e.pos++
			return string(e.in[start+1 : e.pos-1]), nil
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", errSlowPath
		}
		e.pos++
	}
	return "", errSlowPath
}

// rawValue skips one JSON value and returns its bytes.
func (e *yamlEmitter) rawValue() ([]byte, error) {
	start, depth := e.pos, 0
	for e.pos < len(e.in) {
		switch c := e.in[e.pos]; c {
		case '"':
			if _, err := e.str(); err != nil {
				return nil, err
			}
			if depth == 0 {
				return e.in[start:e.pos], nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return e.in[start:e.pos], nil
			}
			depth--
			if depth == 0 {
				e.pos++
				return e.in[start:e.pos], nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return e.in[start:e.pos], nil
			}
		}
		e.pos++
	}
	if depth != 0 {
		return nil, errSlowPath
	}
	return e.in[start:e.pos], nil
}

// emptyAhead reports whether the collection just opened closes with
// closer next, and reads the closer if so.
func (e *yamlEmitter) emptyAhead(closer byte) bool {
	e.skipSpace()
	if e.peek() == closer {
		e.pos++
		return true
	}
	return false
}

func (e *yamlEmitter) indent(n int) {
	for ; n > 0; n-- {
		e.out = append(e.out, ' ')
	}
}

func (e *yamlEmitter) skipSpace() {
	for e.pos < len(e.in) {
		switch e.in[e.pos] {
		case ' ', '\t', '\n', '\r':
			e.pos++
		default:
			return
		}
	}
}

func (e *yamlEmitter) peek() byte {
	if e.pos < len(e.in) {
		return e.in[e.pos]
	}
	return 0
}

func (e *yamlEmitter) next() byte {
	c := e.peek()
	e.pos++
	return c
}

// Scalars yaml.v2 rendered, by string and by JSON token: a translation
// repeats few distinct ones besides names and addresses, which are plain.
var (
	renderedStrings sync.Map // string → string
	renderedTokens  sync.Map // string (JSON token) → string
)

// renderString returns s as yaml.v2 writes it in block context: plain
// when that is certain, else as yaml.v2 renders it alone (plain, quoted);
// a rendering over several lines needs yaml.v2 in context.
func renderString(s string) (string, error) {
	if certainlyPlain(s) {
		return s, nil
	}
	if r, ok := renderedStrings.Load(s); ok {
		return r.(string), nil
	}
	out, err := yaml.Marshal(s)
	if err != nil {
		return "", err
	}
	r := string(bytes.TrimSuffix(out, []byte("\n")))
	if strings.IndexByte(r, '\n') >= 0 {
		return "", errSlowPath
	}
	renderedStrings.Store(s, r)
	return r, nil
}

// renderToken returns a JSON number, true, false or null as yaml.v2
// writes what it reads from it (an int, a float64, a bool, nil).
func renderToken(tok []byte) (string, error) {
	if r, ok := renderedTokens.Load(string(tok)); ok {
		return r.(string), nil
	}
	var v interface{}
	if err := yaml.Unmarshal(tok, &v); err != nil {
		return "", err
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	r := string(bytes.TrimSuffix(out, []byte("\n")))
	if strings.IndexByte(r, '\n') >= 0 {
		return "", errSlowPath
	}
	renderedTokens.Store(string(tok), r)
	return r, nil
}

// certainlyPlain reports whether yaml.v2 writes s plain whatever the
// context: a letter then letters, digits and . _ / | - (and ':' not last)
// that is too long to be one of YAML 1.1's words (yes, off, null, ...),
// or a dotted number such as an IPv4 address.
func certainlyPlain(s string) bool {
	if len(s) == 0 {
		return false
	}
	if isDigit(s[0]) {
		return dottedNumber(s)
	}
	if len(s) < 6 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case isLetter(c) || isDigit(c) || c == '.' || c == '_' || c == '/' || c == '|' || c == '-':
		case c == ':' && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// dottedNumber: digits in at least three dot-separated groups (not an
// int, float or timestamp to YAML).
func dottedNumber(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
		case c == '.' && i > 0 && s[i-1] != '.' && i < len(s)-1:
			dots++
		default:
			return false
		}
	}
	return dots >= 2
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
