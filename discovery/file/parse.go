package file

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/causeway-dev/causeway/internal/yamldoc"
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
	return parseWithCache(name, data, nil)
}

// parseWithCache is Parse reusing, through cache (when not nil), the
// parse of every document it has seen in the previous call.
func parseWithCache(name string, data []byte, cache *docCache) (*model.Snapshot, error) {
	snap, _, err := parseCounting(name, data, cache)
	return snap, err
}

// parseCounting is parseWithCache also counting the documents (those of
// only comments or whitespace do not count).
func parseCounting(name string, data []byte, cache *docCache) (snap *model.Snapshot, documents int, err error) {
	w, docs, err := parseDocuments(name, data, cache)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range docs {
		if !r.blank {
			documents++
		}
	}
	return cache.snapshot(w, docs), documents, nil
}

// parseWorld parses every document on its own (or takes it from cache),
// then puts them together in file order: numbering, duplicates and
// references between documents are checked on the whole file every time.
func parseWorld(name string, data []byte, cache *docCache) (model.World, error) {
	w, _, err := parseDocuments(name, data, cache)
	return w, err
}

// parseDocuments is parseWorld, also returning the documents' parses.
func parseDocuments(name string, data []byte, cache *docCache) (model.World, []*docResult, error) {
	if len(data) > MaxWorldFileBytes {
		return model.World{}, nil, errTooLarge(name, int64(len(data)))
	}
	raws := yamldoc.Split(data)
	results := cache.parse(raws)
	p := newParser(name, results)
	index := 0
	for i, r := range results {
		if r.blank {
			continue
		}
		index++
		p.addDocument(index, raws[i].Line, r)
	}
	p.finishServices()
	p.checkGatewayClusters()
	if p.errs != nil {
		p.errs.ErrorFormat = listErrors
		return model.World{}, nil, p.errs
	}
	return p.world, results, nil
}

// parser puts the documents together: it accumulates the world and every
// error found in it.
type parser struct {
	file  string
	errs  *multierror.Error
	world model.World
	// seen maps an object identity to the document that defined it first.
	seen     map[string]int
	services []pendingService
	gateways []docRef
}

// newParser makes room for the documents' objects up front: growing lists
// of tens of thousands of them is most of what assembling a world allocates.
func newParser(file string, results []*docResult) *parser {
	kinds := map[string]int{}
	for _, r := range results {
		kinds[r.ref.kind]++
	}
	p := &parser{file: file, seen: make(map[string]int, len(results))}
	// An empty list stays nil, as when it grows from nothing.
	if n := kinds["Service"]; n > 0 {
		p.services = make([]pendingService, 0, n)
	}
	if n := kinds["VirtualDestination"]; n > 0 {
		p.world.VirtualDestinations = make([]model.VirtualDestination, 0, n)
	}
	return p
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
	var object string
	switch {
	case d.name != "" && d.namespace != "":
		object = d.namespace + "/" + d.name
	case d.name != "":
		object = d.name
	}
	id := strings.TrimSpace(d.kind + " " + object)
	if id == "" {
		return fmt.Sprintf("%s: document %d", d.file, d.index)
	}
	return fmt.Sprintf("%s: document %d (%s)", d.file, d.index, id)
}

// addDocument reports the problems of document number index, which starts
// at line, and adds its object to the world unless it is a duplicate.
func (p *parser) addDocument(index, line int, r *docResult) {
	if r.syntax != "" {
		p.add(fmt.Errorf("%s: document %d (line %d): invalid YAML: %s", p.file, index, line, yamldoc.FileLines(r.syntax, line)))
		return
	}
	d := r.ref
	d.file, d.index, d.line = p.file, index, line
	for _, e := range r.errs {
		msg := e.msg
		if e.docLines {
			msg = yamldoc.FileLines(msg, line)
		}
		p.errorf(d, e.field, "%s", msg)
	}
	if r.add != nil && p.unique(d, r.key) {
		r.add(p, d)
	}
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

// listErrors prints one error per line, without multierror's bullets, so
// that a single error reads like a plain one.
func listErrors(errs []error) string {
	lines := make([]string, len(errs))
	for i, err := range errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}
