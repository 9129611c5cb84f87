package xds

import (
	"errors"
	"fmt"
	"maps"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/causeway-dev/causeway/translator"
)

// The route fast path's snapshot side. A gateway port's route
// configuration holds a virtual host per hostname, so with one port it is
// as large as the world. A patch names its virtual hosts in order and
// carries only the rebuilt ones: the others keep their encoding, cut out
// of the last configuration's (protobuf writes fields in field number
// order, and a repeated message field is a run of length-prefixed
// encodings), so only the rebuilt virtual hosts are marshalled and
// validated.

// Field numbers of envoy.config.route.v3.RouteConfiguration.virtual_hosts
// and VirtualHost.name.
const (
	routeConfigVirtualHosts protowire.Number = 2
	virtualHostName         protowire.Number = 1
)

// errRoutePatch makes the route fast path fall back to a full rebuild.
var errRoutePatch = errors.New("route update does not apply to the snapshot")

// withRoutes returns a snapshot that shares everything with s except what
// u changes: the patched route configurations, the added clusters and
// load assignments, the removed ones. Only those are marshalled, hashed
// and validated. It returns s itself when nothing changed.
func (s *classSnapshot) withRoutes(u *translator.RouteUpdate) (*classSnapshot, int, error) {
	routes := s.sets[types.Route]
	var routeItems []*item
	for _, p := range u.Routes {
		name := p.Config.GetName()
		prev := routes.items[name]
		if prev == nil {
			return nil, 0, fmt.Errorf("%w: no route configuration %q", errRoutePatch, name)
		}
		x, err := patchRouteConfig(routes.typeURL, prev, p)
		if err != nil {
			return nil, 0, fmt.Errorf("RouteConfiguration %q: %w", name, err)
		}
		if x.d != prev.d {
			routeItems = append(routeItems, x)
		}
	}
	var clusterItems, claItems []*item
	for _, c := range u.Clusters {
		x, err := newValidItem(s.sets[types.Cluster], c.GetName(), c)
		if err != nil {
			return nil, 0, err
		}
		clusterItems = append(clusterItems, x)
	}
	for _, cla := range u.Endpoints {
		x, err := newValidItem(s.sets[types.Endpoint], cla.GetClusterName(), cla)
		if err != nil {
			return nil, 0, err
		}
		claItems = append(claItems, x)
	}
	var removedClas []string
	for _, n := range u.RemovedClusters {
		if s.sets[types.Cluster].items[n] == nil {
			return nil, 0, fmt.Errorf("%w: no cluster %q to remove", errRoutePatch, n)
		}
		if s.sets[types.Endpoint].items[n] != nil {
			removedClas = append(removedClas, n)
		}
	}
	if len(routeItems)+len(clusterItems)+len(claItems)+len(u.RemovedClusters) == 0 {
		return s, 0, nil
	}
	next := &classSnapshot{sets: s.sets}
	next.sets[types.Route] = routes.patched(routeItems, nil)
	next.sets[types.Cluster] = s.sets[types.Cluster].patched(clusterItems, u.RemovedClusters)
	next.sets[types.Endpoint] = s.sets[types.Endpoint].patched(claItems, removedClas)
	next.setVersion()
	return next, len(routeItems) + len(clusterItems) + len(u.RemovedClusters), nil
}

// newValidItem encodes and validates res, a resource new to rs.
func newValidItem(rs *resourceSet, name string, res types.Resource) (*item, error) {
	if rs.items[name] != nil {
		return nil, fmt.Errorf("%w: %s %q is there already", errRoutePatch, rs.typeURL, name)
	}
	x, err := newItem(rs.typeURL, name, res)
	if err != nil {
		return nil, err
	}
	if err := validateMessage(res); err != nil {
		return nil, fmt.Errorf("%s %q: %w", rs.typeURL, name, err)
	}
	if cla, ok := res.(*endpointv3.ClusterLoadAssignment); ok {
		if err := checkPriorities(cla); err != nil {
			return nil, fmt.Errorf("ClusterLoadAssignment %q: %w", name, err)
		}
	}
	x.res = nil // validated: see item
	return x, nil
}

// patched returns rs with put added or replacing resources of their names
// and remove removed, linked to rs; rs itself when there is no change.
func (rs *resourceSet) patched(put []*item, remove []string) *resourceSet {
	if len(put)+len(remove) == 0 {
		return rs
	}
	next := &resourceSet{typeURL: rs.typeURL, items: maps.Clone(rs.items), bytes: rs.bytes, sum: rs.sum}
	names := make([]string, 0, len(put)+len(remove))
	for _, n := range remove {
		if prev := next.items[n]; prev != nil {
			next.sum.xor(prev.d)
			next.bytes -= prev.d.size
			delete(next.items, n)
			names = append(names, n)
		}
	}
	for _, x := range put {
		if prev := next.items[x.wire.Name]; prev != nil {
			next.sum.xor(prev.d)
			next.bytes -= prev.d.size
		}
		next.items[x.wire.Name] = x
		next.sum.xor(x.d)
		next.bytes += x.d.size
		names = append(names, x.wire.Name)
	}
	next.setVersion()
	next.link(rs, names)
	return next
}

// patchRouteConfig encodes the route configuration p describes, reusing
// prev's encoding of every virtual host p did not rebuild, and validates
// what it encoded.
func patchRouteConfig(typeURL string, prev *item, p translator.RouteConfigPatch) (*item, error) {
	cfg := p.Config
	if len(cfg.GetVirtualHosts()) > 0 {
		return nil, fmt.Errorf("%w: the patch's configuration has virtual hosts", errRoutePatch)
	}
	if err := validateMessage(cfg); err != nil {
		return nil, err
	}
	head, err := marshalOpts.Marshal(&routev3.RouteConfiguration{Name: cfg.GetName()})
	if err != nil {
		return nil, err
	}
	rest := proto.Clone(cfg).(*routev3.RouteConfiguration) // small: no virtual hosts
	rest.Name = ""
	tail, err := marshalOpts.Marshal(rest)
	if err != nil {
		return nil, err
	}
	all := prev.wire.GetResource().GetValue()
	size := len(head) + len(tail) + len(all)
	b := make([]byte, 0, size+size/8)
	b = append(b, head...)
	// Virtual hosts kept are in the same order in both configurations
	// (by hostname): one walk over the old encoding finds them all, and
	// consecutive ones are copied as one run.
	pos, runStart, runEnd := 0, 0, 0
	flush := func() {
		b = append(b, all[runStart:runEnd]...)
		runStart, runEnd = pos, pos
	}
	for _, name := range p.VirtualHosts {
		if vh := p.Built[name]; vh != nil {
			if err := validateMessage(vh); err != nil {
				return nil, fmt.Errorf("virtual host %q: %w", name, err)
			}
			enc, err := marshalOpts.Marshal(vh)
			if err != nil {
				return nil, err
			}
			flush()
			b = protowire.AppendTag(b, routeConfigVirtualHosts, protowire.BytesType)
			b = protowire.AppendBytes(b, enc)
			continue
		}
		for {
			field, vhName, n, err := nextVirtualHost(all[pos:])
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, fmt.Errorf("%w: virtual host %q neither rebuilt nor in the last configuration", errRoutePatch, name)
			}
			start := pos + n - len(field)
			pos += n
			if string(vhName) == name {
				if start != runEnd {
					flush()
					runStart = start
				}
				runEnd = pos
				break
			}
		}
	}
	flush()
	b = append(b, tail...)
	d := digestOf(cfg.GetName(), b)
	return &item{d: d, wire: &discoveryv3.Resource{
		Name: cfg.GetName(), Version: d.String(), Resource: &anypb.Any{TypeUrl: typeURL, Value: b},
	}}, nil
}

// nextVirtualHost finds the next virtual_hosts field of a
// RouteConfiguration's encoding b: the field (tag, length and message),
// the virtual host's name, and how many bytes of b it consumed (0 when
// there is none left).
func nextVirtualHost(b []byte) (field, name []byte, consumed int, err error) {
	for consumed < len(b) {
		num, typ, n := protowire.ConsumeTag(b[consumed:])
		if n < 0 {
			return nil, nil, 0, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[consumed+n:])
		if m < 0 {
			return nil, nil, 0, protowire.ParseError(m)
		}
		start := consumed
		consumed += n + m
		if num != routeConfigVirtualHosts || typ != protowire.BytesType {
			continue
		}
		vh, _ := protowire.ConsumeBytes(b[start+n : consumed])
		if name, err = virtualHostNameOf(vh); err != nil {
			return nil, nil, 0, err
		}
		return b[start:consumed], name, consumed, nil
	}
	return nil, nil, 0, nil
}

// virtualHostNameOf reads the name field of an encoded VirtualHost.
func virtualHostNameOf(b []byte) ([]byte, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		if num == virtualHostName && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b[n:])
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			return v, nil
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		b = b[n+m:]
	}
	return nil, nil
}
