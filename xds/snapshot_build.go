package xds

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/translator"
)

// Building a class snapshot validates each resource right after encoding
// it and then drops the message, the translator's reference included: a
// class's translated messages (at 10k destinations, load assignments of
// about 70 MB) are then garbage one by one as the build goes, instead of
// all alive next to their encodings until the class is validated.

// checker validates resources as they are encoded: each resource that no
// published snapshot holds in the same version, and the references of
// clusters and listeners (what cache.Snapshot.Consistent checks).
type checker struct {
	// known reports a resource validated already (see validatedVersion).
	known func(typeURL, name, version string) bool
	mu    sync.Mutex
	refs  map[resource.Type]map[string]bool
}

// check validates x (unless known) and records what it references; it
// returns x's problems.
func (c *checker) check(typeURL string, x *item) error {
	var errs []error
	if c.known == nil || !c.known(typeURL, x.wire.Name, x.wire.Version) {
		kind := typeURL[strings.LastIndex(typeURL, ".")+1:]
		if err := validateMessage(x.res); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", kind, x.wire.Name, err))
		}
		if cla, ok := x.res.(*endpointv3.ClusterLoadAssignment); ok {
			if err := checkPriorities(cla); err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", kind, x.wire.Name, err))
			}
		}
	}
	if typeURL == resource.ClusterType || typeURL == resource.ListenerType {
		refs := cache.GetResourceReferences(map[string]types.ResourceWithTTL{x.wire.Name: {Resource: x.res}})
		c.mu.Lock()
		for typ, names := range refs {
			if c.refs[typ] == nil {
				c.refs[typ] = map[string]bool{}
			}
			for n := range names {
				c.refs[typ][n] = true
			}
		}
		c.mu.Unlock()
	}
	return errors.Join(errs...)
}

// consistent reports references to load assignments and route
// configurations that snap lacks, and ones it has that nothing references
// (Envoy would wait for the first, and never ask for the second).
func (c *checker) consistent(snap *classSnapshot) error {
	var errs []error
	for _, typ := range []resource.Type{resource.EndpointType, resource.RouteType} {
		rs, refs := snap.set(typ), c.refs[typ]
		var missing, unreferenced []string
		for n := range refs {
			if _, ok := rs.items[n]; !ok {
				missing = append(missing, n)
			}
		}
		for n := range rs.items {
			if !refs[n] {
				unreferenced = append(unreferenced, n)
			}
		}
		kind := typ[strings.LastIndex(typ, ".")+1:]
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("snapshot inconsistent: %s referenced but missing: %s", kind, someNames(missing)))
		}
		if len(unreferenced) > 0 {
			errs = append(errs, fmt.Errorf("snapshot inconsistent: %s not referenced: %s", kind, someNames(unreferenced)))
		}
	}
	return errors.Join(errs...)
}

// someNames lists up to five of names, sorted, quoted.
func someNames(names []string) string {
	slices.Sort(names)
	var b strings.Builder
	for i, n := range names {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// newChecker returns a checker that skips the resources a snapshot of
// published holds in the same version.
func newChecker(published []*classSnapshot) *checker {
	return &checker{known: validatedVersion(published), refs: map[resource.Type]map[string]bool{}}
}

// buildSnapshot builds a class snapshot from a translation, validating as
// it encodes and dropping every message once encoded: it empties r's
// resource slices. streamed (may be nil) are the load assignments the
// translator handed over as it built them, already encoded. A resource
// that a snapshot of published holds in the same version is not validated
// again. The error lists every problem, each naming its resource.
func buildSnapshot(r *translator.Resources, streamed *claStream, published ...*classSnapshot) (*classSnapshot, error) {
	c := newChecker(published)
	if streamed != nil {
		c = streamed.c
	}
	snap := &classSnapshot{}
	var problems []error
	// In snapshotTypes order; each slice is cleared as it is encoded.
	for _, typ := range snapshotTypes {
		var items []*item
		var errs []error
		var err error
		switch typ {
		case resource.ClusterType:
			items, errs, err = encodeTyped(typ, r.Clusters, c)
		case resource.EndpointType:
			if streamed != nil {
				items, errs, err = streamed.finish()
			}
			more, moreErrs, moreErr := encodeTyped(typ, r.Endpoints, c)
			items, errs, err = append(items, more...), append(errs, moreErrs...), errors.Join(err, moreErr)
		case resource.ListenerType:
			items, errs, err = encodeTyped(typ, r.Listeners, c)
		case resource.RouteType:
			items, errs, err = encodeTyped(typ, r.Routes, c)
		case resource.SecretType:
			items, errs, err = encodeTyped(typ, r.Secrets, c)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		snap.sets[cache.GetResponseType(typ)] = resourceSetOf(typ, items)
		problems = append(problems, errs...)
	}
	r.Clusters, r.Endpoints, r.Listeners, r.Routes, r.Secrets = nil, nil, nil, nil, nil
	snap.setVersion()
	problems = append(problems, c.consistent(snap))
	return snap, errors.Join(problems...)
}

// claStream encodes and checks load assignments on worker goroutines as
// the translator hands them over (translator.TranslateStreaming), so at
// most a channel's worth of them is alive at a time, not the class's.
type claStream struct {
	c    *checker
	ch   chan seqCLA
	next int
	wg   sync.WaitGroup
	out  [][]seqItem // per worker
	errs []error     // per worker
	done bool
}

type seqCLA struct {
	seq int
	cla *endpointv3.ClusterLoadAssignment
}

type seqItem struct {
	seq     int
	x       *item
	problem error
}

// claStreamBuffer bounds the load assignments handed over and not yet
// encoded.
const claStreamBuffer = 64

func newCLAStream(c *checker) *claStream {
	workers := runtime.GOMAXPROCS(0)
	st := &claStream{c: c, ch: make(chan seqCLA, claStreamBuffer), out: make([][]seqItem, workers), errs: make([]error, workers)}
	for w := range workers {
		st.wg.Go(func() {
			for in := range st.ch {
				if st.errs[w] != nil {
					continue // drain
				}
				x, err := newItem(resource.EndpointType, in.cla.GetClusterName(), in.cla)
				if err != nil {
					st.errs[w] = err
					continue
				}
				problem := c.check(resource.EndpointType, x)
				x.res = nil
				st.out[w] = append(st.out[w], seqItem{in.seq, x, problem})
			}
		})
	}
	return st
}

// add takes one load assignment, in the translator's goroutine.
func (st *claStream) add(cla *endpointv3.ClusterLoadAssignment) {
	st.ch <- seqCLA{st.next, cla}
	st.next++
}

// finish waits for the workers and returns the items and their problems
// in the order they were added.
func (st *claStream) finish() ([]*item, []error, error) {
	if !st.done {
		st.done = true
		close(st.ch)
	}
	st.wg.Wait()
	all := make([]seqItem, 0, st.next)
	for _, xs := range st.out {
		all = append(all, xs...)
	}
	slices.SortFunc(all, func(a, b seqItem) int { return a.seq - b.seq })
	items, problems := make([]*item, len(all)), make([]error, len(all))
	for i, x := range all {
		items[i], problems[i] = x.x, x.problem
	}
	st.out = nil
	return items, problems, errors.Join(st.errs...)
}

// encodeTyped encodes xs in order, in parallel chunks when there are
// many. With a checker, it validates each resource, returns its problems
// by index (nil entries when fine), and drops the message from the item
// and from xs as soon as it is done with it.
func encodeTyped[T types.Resource](typeURL string, xs []T, c *checker) ([]*item, []error, error) {
	out := make([]*item, len(xs))
	var problems []error
	if c != nil {
		problems = make([]error, len(xs))
	}
	workers := min(runtime.GOMAXPROCS(0), len(xs)/parallelEncodeMin+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(xs)/workers, (w+1)*len(xs)/workers
		wg.Go(func() {
			var zero T
			for i := lo; i < hi; i++ {
				x, err := newItem(typeURL, cache.GetResourceName(xs[i]), xs[i])
				if err != nil {
					errs[w] = err
					return
				}
				if c != nil {
					problems[i] = c.check(typeURL, x)
					x.res, xs[i] = nil, zero
				}
				out[i] = x
			}
		})
	}
	wg.Wait()
	return out, problems, errors.Join(errs...)
}

// validatedVersion reports whether a snapshot of published holds name in
// version (nil when none is published): validated then, since a version
// digests the name and the encoding, and validating a resource depends on
// nothing else.
func validatedVersion(published []*classSnapshot) func(typeURL, name, version string) bool {
	published = slices.DeleteFunc(slices.Clone(published), func(p *classSnapshot) bool { return p == nil })
	if len(published) == 0 {
		return nil
	}
	return func(typeURL, name, version string) bool {
		for _, p := range published {
			if p.set(typeURL).versionOf(name) == version {
				return true
			}
		}
		return false
	}
}
