package translator

import (
	"fmt"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// checkResources asserts what Envoy (and a real xDS client) would check and
// the protos cannot express alone: every resource and every Any payload
// passes ValidateAll, names are unique, CLA priorities are contiguous from
// 0, EDS/RDS references match (Snapshot.Consistent) and every cluster a
// route or tcp_proxy names exists.
func checkResources(t *testing.T, r *Resources) {
	t.Helper()
	all := map[string][]proto.Message{
		resource.ListenerType: messages(r.Listeners),
		resource.RouteType:    messages(r.Routes),
		resource.ClusterType:  messages(r.Clusters),
		resource.EndpointType: messages(r.Endpoints),
		resource.SecretType:   messages(r.Secrets),
	}
	snapRes := map[resource.Type][]types.Resource{}
	clusters := map[string]bool{}
	for typ, list := range all {
		seen := map[string]bool{}
		for _, m := range list {
			name := cache.GetResourceName(m.(types.Resource))
			if seen[name] {
				t.Errorf("%s: duplicate name %q", typ, name)
			}
			seen[name] = true
			for _, err := range validateDeep(m) {
				t.Errorf("%s %q: %v", typ, name, err)
			}
			snapRes[typ] = append(snapRes[typ], m.(types.Resource))
		}
		if typ == resource.ClusterType {
			clusters = seen
		}
	}
	for _, cla := range r.Endpoints {
		if err := checkPriorities(cla.GetEndpoints()); err != nil {
			t.Errorf("ClusterLoadAssignment %q: %v", cla.GetClusterName(), err)
		}
	}
	snap, err := cache.NewSnapshot("1", snapRes)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Errorf("snapshot not consistent: %v", err)
	}
	for _, list := range all {
		for _, m := range list {
			for _, c := range referencedClusters(m) {
				if !clusters[c] {
					t.Errorf("%s references cluster %q, which is not in the snapshot", cache.GetResourceName(m.(types.Resource)), c)
				}
			}
		}
	}
}

// priorityHolder is LocalityLbEndpoints as checkPriorities needs it.
type priorityHolder interface{ GetPriority() uint32 }

// checkPriorities reports a gap in the priorities in use or an order that is
// not by priority.
func checkPriorities[P priorityHolder](eps []P) error {
	used := map[uint32]bool{}
	var last uint32
	for i, e := range eps {
		if i > 0 && e.GetPriority() < last {
			return fmt.Errorf("endpoints[%d]: priority %d after %d", i, e.GetPriority(), last)
		}
		last = e.GetPriority()
		used[e.GetPriority()] = true
	}
	for p := uint32(0); p < uint32(len(used)); p++ {
		if !used[p] {
			return fmt.Errorf("priorities %v are not contiguous from 0", used)
		}
	}
	return nil
}

type validator interface{ ValidateAll() error }

// validateDeep runs ValidateAll on m and on every Any payload inside it
// (ValidateAll does not descend into typed_config), recursively.
func validateDeep(m proto.Message) []error {
	var errs []error
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, err)
		}
	}
	visit(m.ProtoReflect(), func(a *anypb.Any) {
		payload, err := a.UnmarshalNew()
		if err != nil {
			errs = append(errs, fmt.Errorf("unpacking %s: %w", a.GetTypeUrl(), err))
			return
		}
		if _, ok := payload.(validator); !ok {
			errs = append(errs, fmt.Errorf("%s has no ValidateAll", a.GetTypeUrl()))
		}
		errs = append(errs, validateDeep(payload)...)
	})
	return errs
}

// visit calls fn for every Any nested in m (not descending into them).
func visit(m protoreflect.Message, fn func(*anypb.Any)) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		fn(a)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				visit(v.List().Get(i).Message(), fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(mv.Message(), fn)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			visit(v.Message(), fn)
		}
		return true
	})
}

// referencedClusters lists the clusters m's routes and tcp_proxy filters
// forward to, looking inside Any payloads.
func referencedClusters(m proto.Message) []string {
	var out []string
	var walk func(protoreflect.Message)
	walk = func(pm protoreflect.Message) {
		switch x := pm.Interface().(type) {
		case *routev3.RouteAction:
			if c := x.GetCluster(); c != "" {
				out = append(out, c)
			}
			for _, wc := range x.GetWeightedClusters().GetClusters() {
				out = append(out, wc.GetName())
			}
			for _, mp := range x.GetRequestMirrorPolicies() {
				out = append(out, mp.GetCluster())
			}
		case *tcpproxyv3.TcpProxy:
			if c := x.GetCluster(); c != "" {
				out = append(out, c)
			}
			for _, wc := range x.GetWeightedClusters().GetClusters() {
				out = append(out, wc.GetName())
			}
		}
		pm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walkAny(v.List().Get(i).Message(), walk)
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walkAny(mv.Message(), walk)
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walkAny(v.Message(), walk)
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return out
}

// walkAny walks m, or the payload when m is an Any.
func walkAny(m protoreflect.Message, walk func(protoreflect.Message)) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		if payload, err := a.UnmarshalNew(); err == nil {
			walk(payload.ProtoReflect())
		}
		return
	}
	walk(m)
}
