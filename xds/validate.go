package xds

import (
	"errors"
	"fmt"
	"sort"
	"strings"

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
	var errs []error
	for idx, res := range snap.Resources {
		typeURL, err := cache.GetResponseTypeURL(types.ResponseType(idx))
		if err != nil {
			continue
		}
		kind := typeURL[strings.LastIndex(typeURL, ".")+1:]
		for _, name := range sortedNames(res.Items) {
			if known != nil && known(typeURL, name) {
				continue
			}
			msg := res.Items[name].Resource
			if err := validateMessage(msg); err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", kind, name, err))
			}
			if cla, ok := msg.(*endpointv3.ClusterLoadAssignment); ok {
				if err := checkPriorities(cla); err != nil {
					errs = append(errs, fmt.Errorf("%s %q: %w", kind, name, err))
				}
			}
		}
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

// walkAnys calls fn for every populated Any field in m (not inside the
// Anys themselves: fn decides whether to descend), with its field path.
func walkAnys(m protoreflect.Message, path string, fn func(string, *anypb.Any)) {
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
		walkAnys(v, p, fn)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
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
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(fmt.Sprintf("%s[%q]", name, k.String()), mv.Message())
				return true
			})
		default:
			visit(name, v.Message())
		}
		return true
	})
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
