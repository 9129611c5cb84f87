package xds

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/translator"
)

// resourceSet is one resource type of a class snapshot: the resources by
// name, each resource's version (a hash of its deterministic encoding,
// computed once when the resource enters a snapshot and carried over to
// later snapshots that keep it), its encoded size, and the type version.
//
// The type version is the XOR of per-resource digests of (name, encoding),
// so replacing k resources updates it in O(k) rather than re-hashing the
// whole type; identical contents always give identical versions.
// A resourceSet is immutable once published.
type resourceSet struct {
	version  string
	items    map[string]types.ResourceWithTTL
	versions map[string]string // name → resource version (delta xDS): the hex digest and size
	bytes    int               // sum of encoded sizes
	sum      digest
}

// digest is a resource's 128-bit digest of (name, encoding) and its size.
type digest struct {
	hi, lo uint64
	size   int
}

func (d *digest) xor(o digest) { d.hi ^= o.hi; d.lo ^= o.lo }

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// digestOf marshals m deterministically and digests it with its name.
func digestOf(name string, m proto.Message) (digest, error) {
	b, err := marshalOpts.Marshal(m)
	if err != nil {
		return digest{}, fmt.Errorf("%s: %w", name, err)
	}
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	h.Write(b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return digest{hi: binary.BigEndian.Uint64(sum[0:8]), lo: binary.BigEndian.Uint64(sum[8:16]), size: len(b)}, nil
}

// String is the resource version: it encodes the whole digest, so the
// type version can be updated from it without a second map.
func (d digest) String() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[0:8], d.hi)
	binary.BigEndian.PutUint64(b[8:16], d.lo)
	binary.BigEndian.PutUint64(b[16:24], uint64(d.size))
	return hex.EncodeToString(b[:])
}

// parseDigest inverts digest.String.
func parseDigest(v string) (digest, bool) {
	var b [24]byte
	if n, err := hex.Decode(b[:], []byte(v)); err != nil || n != len(b) {
		return digest{}, false
	}
	return digest{
		hi:   binary.BigEndian.Uint64(b[0:8]),
		lo:   binary.BigEndian.Uint64(b[8:16]),
		size: int(binary.BigEndian.Uint64(b[16:24])),
	}, true
}

func (rs *resourceSet) setVersion() {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], rs.sum.hi)
	binary.BigEndian.PutUint64(b[8:16], rs.sum.lo)
	rs.version = hex.EncodeToString(b[:8])
}

// newResourceSet indexes, versions and digests items.
func newResourceSet(items []types.Resource) (*resourceSet, error) {
	rs := &resourceSet{
		items:    make(map[string]types.ResourceWithTTL, len(items)),
		versions: make(map[string]string, len(items)),
	}
	for _, it := range items {
		name := cache.GetResourceName(it)
		d, err := digestOf(name, it)
		if err != nil {
			return nil, err
		}
		if v, dup := rs.versions[name]; dup { // the last one wins, as in the cache's index
			old, _ := parseDigest(v)
			rs.sum.xor(old)
			rs.bytes -= old.size
		}
		rs.items[name] = types.ResourceWithTTL{Resource: it}
		rs.versions[name] = d.String()
		rs.sum.xor(d)
		rs.bytes += d.size
	}
	rs.setVersion()
	return rs, nil
}

// classSnapshot is a class's immutable snapshot: a cache.ResourceSnapshot
// whose per-resource versions are computed once, when a resource enters
// it, instead of by every delta watch (cache.Snapshot re-marshals and
// re-hashes everything in ConstructVersionMap).
type classSnapshot struct {
	sets    [types.UnknownType]*resourceSet
	version string // hash of the per-type versions
}

var _ cache.ResourceSnapshot = (*classSnapshot)(nil)

// snapshotTypes are the resource types a class snapshot carries. Each is
// always present, empty or not: a type without a version would leave a
// proxy's first wildcard request (version "") unanswered.
var snapshotTypes = []resource.Type{
	resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType,
}

func (s *classSnapshot) set(typeURL string) *resourceSet {
	if s == nil {
		return nil
	}
	i := cache.GetResponseType(typeURL)
	if i == types.UnknownType {
		return nil
	}
	return s.sets[i]
}

func (s *classSnapshot) GetVersion(typeURL string) string {
	if rs := s.set(typeURL); rs != nil {
		return rs.version
	}
	return ""
}

func (s *classSnapshot) GetResourcesAndTTL(typeURL string) map[string]types.ResourceWithTTL {
	if rs := s.set(typeURL); rs != nil {
		return rs.items
	}
	return nil
}

func (s *classSnapshot) GetResources(typeURL string) map[string]types.Resource {
	rs := s.set(typeURL)
	if rs == nil {
		return nil
	}
	out := make(map[string]types.Resource, len(rs.items))
	for k, v := range rs.items {
		out[k] = v.Resource
	}
	return out
}

// ConstructVersionMap does nothing: versions are computed on the way in.
func (s *classSnapshot) ConstructVersionMap() error { return nil }

func (s *classSnapshot) GetVersionMap(typeURL string) map[string]string {
	if rs := s.set(typeURL); rs != nil {
		return rs.versions
	}
	return nil
}

// Bytes is the encoded size of every resource in the snapshot.
func (s *classSnapshot) Bytes() int {
	n := 0
	for _, rs := range s.sets {
		if rs != nil {
			n += rs.bytes
		}
	}
	return n
}

func (s *classSnapshot) setVersion() {
	h := sha256.New()
	for _, typ := range snapshotTypes {
		fmt.Fprintf(h, "%s=%s\n", typ, s.GetVersion(typ))
	}
	s.version = hex.EncodeToString(h.Sum(nil))[:16]
}

// view is s as a cache.Snapshot sharing its maps (for validation).
func (s *classSnapshot) view() *cache.Snapshot {
	v := &cache.Snapshot{}
	for i, rs := range s.sets {
		if rs != nil {
			v.Resources[i] = cache.Resources{Version: rs.version, Items: rs.items}
		}
	}
	return v
}

// newSnapshot builds a class snapshot from a translation. Identical output
// gets identical versions, so a rebuild that changes nothing pushes
// nothing, and a change to endpoints does not re-send clusters or
// listeners.
func newSnapshot(r *translator.Resources) (*classSnapshot, string, error) {
	byType := map[resource.Type][]types.Resource{}
	for _, x := range r.Clusters {
		byType[resource.ClusterType] = append(byType[resource.ClusterType], x)
	}
	for _, x := range r.Endpoints {
		byType[resource.EndpointType] = append(byType[resource.EndpointType], x)
	}
	for _, x := range r.Listeners {
		byType[resource.ListenerType] = append(byType[resource.ListenerType], x)
	}
	for _, x := range r.Routes {
		byType[resource.RouteType] = append(byType[resource.RouteType], x)
	}
	for _, x := range r.Secrets {
		byType[resource.SecretType] = append(byType[resource.SecretType], x)
	}
	snap := &classSnapshot{}
	for _, typ := range snapshotTypes {
		rs, err := newResourceSet(byType[typ])
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", typ, err)
		}
		snap.sets[cache.GetResponseType(typ)] = rs
	}
	snap.setVersion()
	return snap, snap.version, nil
}

// errNotInSnapshot makes the fast path fall back to a full rebuild: a load
// assignment it computed names a cluster the snapshot does not have.
var errNotInSnapshot = errors.New("load assignment for a cluster not in the snapshot")

// withEndpoints returns a snapshot that shares everything with s except
// the given load assignments, which replace those of the same names; only
// they are marshalled, hashed and validated. It returns s itself when
// every assignment is unchanged, and errNotInSnapshot (or a validation
// error) when the assignments cannot be patched in.
func (s *classSnapshot) withEndpoints(clas []*endpointv3.ClusterLoadAssignment) (*classSnapshot, int, error) {
	old := s.sets[types.Endpoint]
	type change struct {
		name string
		cla  *endpointv3.ClusterLoadAssignment
		d    digest
	}
	var changes []change
	for _, cla := range clas {
		name := cla.GetClusterName()
		v, ok := old.versions[name]
		if !ok {
			return nil, 0, fmt.Errorf("%w: %q", errNotInSnapshot, name)
		}
		prev, ok := parseDigest(v)
		if !ok {
			return nil, 0, fmt.Errorf("resource version %q of %q: not a digest", v, name)
		}
		d, err := digestOf(name, cla)
		if err != nil {
			return nil, 0, err
		}
		if d == prev {
			continue
		}
		if err := validateMessage(cla); err != nil {
			return nil, 0, fmt.Errorf("ClusterLoadAssignment %q: %w", name, err)
		}
		if err := checkPriorities(cla); err != nil {
			return nil, 0, fmt.Errorf("ClusterLoadAssignment %q: %w", name, err)
		}
		changes = append(changes, change{name, cla, d})
	}
	if len(changes) == 0 {
		return s, 0, nil
	}
	rs := &resourceSet{
		items:    maps.Clone(old.items),
		versions: maps.Clone(old.versions),
		bytes:    old.bytes,
		sum:      old.sum,
	}
	for _, c := range changes {
		prev, _ := parseDigest(rs.versions[c.name])
		rs.sum.xor(prev)
		rs.sum.xor(c.d)
		rs.bytes += c.d.size - prev.size
		rs.items[c.name] = types.ResourceWithTTL{Resource: c.cla}
		rs.versions[c.name] = c.d.String()
	}
	rs.setVersion()
	next := &classSnapshot{sets: s.sets}
	next.sets[types.Endpoint] = rs
	next.setVersion()
	return next, len(changes), nil
}

// validatedIn reports, for validateExcept, the resources of s that prev
// (a published, hence validated, snapshot) holds with the same version.
func (s *classSnapshot) validatedIn(prev *classSnapshot) func(typeURL, name string) bool {
	if prev == nil {
		return nil
	}
	return func(typeURL, name string) bool {
		cur, old := s.set(typeURL), prev.set(typeURL)
		if cur == nil || old == nil {
			return false
		}
		v, ok := old.versions[name]
		return ok && cur.versions[name] == v
	}
}
