package xds

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// validateSnapshot checks what Envoy would reject before it is sent, so a
// bad translation is never pushed (go-control-plane would resend a NACKed
// version forever): every resource's protoc-gen-validate rules, including
// the payloads of google.protobuf.Any fields that ValidateAll does not
// descend into; cross-resource references (Consistent); and contiguous
// endpoint priorities. The error lists every problem, each naming the
// resource.
func validateSnapshot(snap *cache.Snapshot) error { return validateExcept(snap, nil) }

// validateExcept is validateSnapshot skipping the resources for which
// known(typeURL, name) is true: those already validated (per-resource
// validation is the most expensive step of a push). known may be nil.
func validateExcept(snap *cache.Snapshot, known func(typeURL, name string) bool) error {
	type check struct {
		kind, name string
		msg        types.Resource
	}
	var checks []check
	for idx, res := range snap.Resources {
		typeURL, err := cache.GetResponseTypeURL(types.ResponseType(idx))
		if err != nil {
			continue
		}
		kind := typeURL[strings.LastIndex(typeURL, ".")+1:]
		for _, name := range sortedNames(res.Items) {
			if known == nil || !known(typeURL, name) {
				checks = append(checks, check{kind, name, res.Items[name].Resource})
			}
		}
	}
	// Validation is the costliest step of a new class's push: use every
	// core, and report in resource order whatever the scheduling.
	found := make([][]error, len(checks))
	workers := min(runtime.GOMAXPROCS(0), len(checks)/parallelEncodeMin+1)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(checks)/workers, (w+1)*len(checks)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				c := checks[i]
				if err := validateMessage(c.msg); err != nil {
					found[i] = append(found[i], fmt.Errorf("%s %q: %w", c.kind, c.name, err))
				}
				if cla, ok := c.msg.(*endpointv3.ClusterLoadAssignment); ok {
					if err := checkPriorities(cla); err != nil {
						found[i] = append(found[i], fmt.Errorf("%s %q: %w", c.kind, c.name, err))
					}
				}
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, e := range found {
		errs = append(errs, e...)
	}
	if err := snap.Consistent(); err != nil {
		errs = append(errs, fmt.Errorf("snapshot inconsistent: %w", err))
	}
	return errors.Join(errs...)
}

func sortedNames(items map[string]types.ResourceWithTTL) []string {
	names := make([]string, 0, len(items))
	for n := range items {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// validateMessage runs m's ValidateAll and validates the payload of every
// Any inside m, recursively.
func validateMessage(m proto.Message) error {
	var errs []error
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, err)
		}
	}
	walkAnys(m.ProtoReflect(), "", func(path string, a *anypb.Any) {
		inner, err := a.UnmarshalNew()
		if err == nil {
			err = validateMessage(inner)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", path, a.GetTypeUrl(), err))
		}
	})
	return errors.Join(errs...)
}

const anyName protoreflect.FullName = "google.protobuf.Any"

// anyReach caches, per message descriptor, whether a message of that type
// can hold an Any anywhere below it (see mayContainAny).
var anyReach sync.Map // protoreflect.MessageDescriptor -> bool

// mayContainAny reports whether a message of type md can (transitively,
// through singular, repeated or map fields) hold a google.protobuf.Any, or
// is an Any itself. A type that declares extension ranges is assumed to,
// since its extensions are not known from the descriptor. The answer is
// cached per descriptor; recursive types are handled as graph reachability.
func mayContainAny(md protoreflect.MessageDescriptor) bool {
	if v, ok := anyReach.Load(md); ok {
		return v.(bool)
	}
	seen := map[protoreflect.MessageDescriptor]bool{}
	found := reachesAny(md, seen)
	if found {
		anyReach.Store(md, true)
	} else {
		// Nothing reachable from md is an Any, so nothing reachable from
		// any type visited on the way is either.
		for d := range seen {
			anyReach.Store(d, false)
		}
	}
	return found
}

func reachesAny(md protoreflect.MessageDescriptor, seen map[protoreflect.MessageDescriptor]bool) bool {
	if md.FullName() == anyName || md.ExtensionRanges().Len() > 0 {
		return true
	}
	if v, ok := anyReach.Load(md); ok {
		return v.(bool)
	}
	if seen[md] {
		return false // already being (or been) explored on this search
	}
	seen[md] = true
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		// For a map field Message() is the entry type, whose fields are
		// the key and value.
		if sub := fields.Get(i).Message(); sub != nil && reachesAny(sub, seen) {
			return true
		}
	}
	return false
}

// walkAnys calls fn for every populated Any field in m (not inside the
// Anys themselves: fn decides whether to descend), with its field path.
// Fields whose type cannot hold an Any are not descended into.
func walkAnys(m protoreflect.Message, path string, fn func(string, *anypb.Any)) {
	if !mayContainAny(m.Descriptor()) {
		return
	}
	walkFields(m, path, fn)
}

// anyFields lists, per message descriptor, the fields of that type that can
// hold an Any (see fieldsWithAny).
var anyFields sync.Map // protoreflect.MessageDescriptor -> *anyFieldSet

type anyFieldSet struct {
	fields []protoreflect.FieldDescriptor // message fields that may hold an Any
	all    bool                           // extendable type: walk every populated field
}

func fieldsWithAny(md protoreflect.MessageDescriptor) *anyFieldSet {
	if v, ok := anyFields.Load(md); ok {
		return v.(*anyFieldSet)
	}
	set := &anyFieldSet{all: md.ExtensionRanges().Len() > 0}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		// For a map field Message() is the entry type.
		if fd := fields.Get(i); fd.Message() != nil && mayContainAny(fd.Message()) {
			set.fields = append(set.fields, fd)
		}
	}
	v, _ := anyFields.LoadOrStore(md, set)
	return v.(*anyFieldSet)
}

func walkFields(m protoreflect.Message, path string, fn func(string, *anypb.Any)) {
	visit := func(p string, v protoreflect.Message) {
		if v.Descriptor().FullName() == anyName {
			a, ok := v.Interface().(*anypb.Any)
			if !ok { // a dynamic Any: copy it into the concrete type
				a = &anypb.Any{}
				b, err := proto.Marshal(v.Interface())
				if err == nil {
					err = proto.Unmarshal(b, a)
				}
				if err != nil {
					return
				}
			}
			fn(p, a)
			return
		}
		walkFields(v, p, fn)
	}
	field := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		name := string(fd.Name())
		if path != "" {
			name = path + "." + name
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visit(fmt.Sprintf("%s[%d]", name, i), l.Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Kind() != protoreflect.MessageKind {
				return
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(fmt.Sprintf("%s[%q]", name, k.String()), mv.Message())
				return true
			})
		default:
			visit(name, v.Message())
		}
	}
	set := fieldsWithAny(m.Descriptor())
	if set.all { // populated extensions are only found by Range
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Message() != nil && mayContainAny(fd.Message()) {
				field(fd, v)
			}
			return true
		})
		return
	}
	for _, fd := range set.fields {
		if m.Has(fd) {
			field(fd, m.Get(fd))
		}
	}
}

// checkPriorities reports a ClusterLoadAssignment whose priorities are not
// 0..N without gaps, which Envoy rejects.
func checkPriorities(cla *endpointv3.ClusterLoadAssignment) error {
	seen := map[uint32]bool{}
	var highest uint32
	for _, le := range cla.GetEndpoints() {
		seen[le.GetPriority()] = true
		highest = max(highest, le.GetPriority())
	}
	for p := uint32(0); p < highest; p++ {
		if !seen[p] {
			return fmt.Errorf("endpoint priorities are not contiguous from 0: priority %d is missing (highest is %d)", p, highest)
		}
	}
	return nil
}
