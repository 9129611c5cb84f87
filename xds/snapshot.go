package xds

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/causeway-dev/causeway/translator"
)

// resourceSet is one resource type of a class snapshot: each resource with
// its wire form, encoded once when the resource enters a snapshot and
// carried over to later snapshots that keep it, so every stream of every
// proxy shares one encoding (go-control-plane's caches marshal per
// response, per stream).
//
// A resource's version is a hash of its deterministic encoding. The type
// version is the XOR of per-resource digests of (name, encoding), so
// replacing k resources updates it in O(k); identical contents always give
// identical versions. A resourceSet is immutable once published, except
// for its history link, which only ever gets shorter.
type resourceSet struct {
	typeURL string
	version string
	items   map[string]*item
	bytes   int // sum of encoded sizes
	sum     digest

	// parent is the set this one was derived from (or compared with) and
	// changed the names whose version differs between them (added, changed
	// or removed): streams diff against what they hold in O(change).
	parent  atomic.Pointer[resourceSet]
	changed []string
	depth   int

	sortedOnce sync.Once
	sorted     []*discoveryv3.Resource // by name
	anys       []*anypb.Any            // sorted's payloads (state of the world)
	namesSum   nameSum

	// whole are the encoded resources fields of a response carrying the
	// whole set ([0] state of the world, [1] delta), built on first use and
	// sent by every stream that needs the whole set. Held weakly: they are
	// wanted in bursts (initial syncs, a changed set), and in between
	// would double the set's memory.
	wholeMu  sync.Mutex
	whole    [2]weak.Pointer[byte]
	wholeLen [2]int
}

// item is one resource of a set: its wire form, shared by every response
// that carries it, and the message until the set is validated (shed then:
// the wire form is all a published set needs, at a fraction of the memory).
type item struct {
	res  types.Resource
	wire *discoveryv3.Resource // name, version and encoded payload
	d    digest
}

// maxHistory bounds a set's chain of parents: older sets can be collected,
// and a stream that holds one diffs in full instead.
const maxHistory = 16

// digest is a resource's 128-bit digest of (name, encoding) and its size.
type digest struct {
	hi, lo uint64
	size   int
}

func (d *digest) xor(o digest) { d.hi ^= o.hi; d.lo ^= o.lo }

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// encode marshals m deterministically and digests it with its name.
func encode(name string, m proto.Message) ([]byte, digest, error) {
	b, err := marshalOpts.Marshal(m)
	if err != nil {
		return nil, digest{}, fmt.Errorf("%s: %w", name, err)
	}
	return b, digestOf(name, b), nil
}

// digestOf digests a resource's name and encoding.
func digestOf(name string, b []byte) digest {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	h.Write(b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return digest{hi: binary.BigEndian.Uint64(sum[0:8]), lo: binary.BigEndian.Uint64(sum[8:16]), size: len(b)}
}

// String is the resource version.
func (d digest) String() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[0:8], d.hi)
	binary.BigEndian.PutUint64(b[8:16], d.lo)
	binary.BigEndian.PutUint64(b[16:24], uint64(d.size))
	return hex.EncodeToString(b[:])
}

// newItem encodes res for typeURL.
func newItem(typeURL, name string, res types.Resource) (*item, error) {
	b, d, err := encode(name, res)
	if err != nil {
		return nil, err
	}
	return &item{res: res, d: d, wire: &discoveryv3.Resource{
		Name: name, Version: d.String(), Resource: &anypb.Any{TypeUrl: typeURL, Value: b},
	}}, nil
}

func (rs *resourceSet) setVersion() {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], rs.sum.hi)
	binary.BigEndian.PutUint64(b[8:16], rs.sum.lo)
	rs.version = hex.EncodeToString(b[:8])
}

// newResourceSet indexes, encodes and digests items. Encoding is most of
// a snapshot's cost after translation, so large sets use every core.
func newResourceSet(typeURL string, items []types.Resource) (*resourceSet, error) {
	encoded, _, err := encodeTyped(typeURL, items, nil)
	if err != nil {
		return nil, err
	}
	return resourceSetOf(typeURL, encoded), nil
}

// resourceSetOf indexes encoded items; of two with the same name, the
// last one wins.
func resourceSetOf(typeURL string, encoded []*item) *resourceSet {
	rs := &resourceSet{typeURL: typeURL, items: make(map[string]*item, len(encoded))}
	for _, x := range encoded {
		name := x.wire.Name
		if old, dup := rs.items[name]; dup {
			rs.sum.xor(old.d)
			rs.bytes -= old.d.size
		}
		rs.items[name] = x
		rs.sum.xor(x.d)
		rs.bytes += x.d.size
	}
	rs.setVersion()
	return rs
}

// parallelEncodeMin is the set size from which encoding is split over
// GOMAXPROCS goroutines.
const parallelEncodeMin = 512

// version returns the version of name in rs ("" when absent or rs is nil).
func (rs *resourceSet) versionOf(name string) string {
	if rs == nil {
		return ""
	}
	if it := rs.items[name]; it != nil {
		return it.wire.Version
	}
	return ""
}

// wire returns the resources ordered by name and their payloads, built
// once per set and shared by every response that sends the whole set.
func (rs *resourceSet) wire() ([]*discoveryv3.Resource, []*anypb.Any) {
	rs.sortedOnce.Do(func() {
		names := slices.Sorted(maps.Keys(rs.items))
		rs.sorted = make([]*discoveryv3.Resource, len(names))
		rs.anys = make([]*anypb.Any, len(names))
		for i, n := range names {
			rs.sorted[i] = rs.items[n].wire
			rs.anys[i] = rs.sorted[i].Resource
			rs.namesSum.add(n)
		}
	})
	return rs.sorted, rs.anys
}

// names is the order-insensitive sum of rs's resource names.
// wholeBody returns the encoded resources field of a response carrying the
// whole set, for a delta or a state-of-the-world response. Encodings of a
// message concatenate to their merge, so a stream sends it after the
// response's few own fields (version, type, nonce): a first sync of a
// large set to many proxies then shares one buffer instead of allocating
// one per stream, which was most of the garbage and the peak memory.
func (rs *resourceSet) wholeBody(delta bool) []byte {
	i := 0
	if delta {
		i = 1
	}
	rs.wholeMu.Lock()
	defer rs.wholeMu.Unlock()
	if p := rs.whole[i].Value(); p != nil {
		return unsafe.Slice(p, rs.wholeLen[i])
	}
	sorted, anys := rs.wire()
	var m proto.Message = &discoveryv3.DiscoveryResponse{Resources: anys}
	if delta {
		m = &discoveryv3.DeltaDiscoveryResponse{Resources: sorted}
	}
	b, err := proto.Marshal(m)
	if err != nil { // the parts were encoded already: cannot happen
		panic(fmt.Sprintf("encode %s: %v", rs.typeURL, err))
	}
	if len(b) == 0 {
		return b
	}
	rs.whole[i], rs.wholeLen[i] = weak.Make(&b[0]), len(b)
	return b
}

func (rs *resourceSet) names() nameSum {
	rs.wire()
	return rs.namesSum
}

// link records that rs was derived from prev with the given names changed,
// cutting the history at maxHistory.
func (rs *resourceSet) link(prev *resourceSet, changed []string) {
	if prev == nil || prev == rs {
		return
	}
	rs.changed = changed
	rs.depth = prev.depth + 1
	rs.parent.Store(prev)
	if rs.depth%maxHistory == 0 {
		// Cut maxHistory generations back, so at most 2*maxHistory sets stay reachable.
		cur := rs
		for range maxHistory {
			if cur = cur.parent.Load(); cur == nil {
				return
			}
		}
		cur.parent.Store(nil)
	}
}

// linkFull links rs to prev by comparing every resource: for sets built
// by a full translation, once per publish (not per stream).
func (rs *resourceSet) linkFull(prev *resourceSet) {
	if prev == nil || prev == rs || rs.parent.Load() != nil {
		return
	}
	rs.link(prev, diffNames(prev, rs))
}

// diffNames returns the names whose version differs between a and b.
func diffNames(a, b *resourceSet) []string {
	var out []string
	for n, it := range b.items {
		if a.versionOf(n) != it.wire.Version {
			out = append(out, n)
		}
	}
	for n := range a.items {
		if _, ok := b.items[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// changedSince returns the names whose version in rs may differ from
// their version in from (a superset: a name changed and changed back is
// included). It walks rs's history, and compares both sets in full when
// the history does not reach from.
func (rs *resourceSet) changedSince(from *resourceSet) []string {
	if from == rs {
		return nil
	}
	var acc []string
	for cur := rs; cur != nil; cur = cur.parent.Load() {
		if cur == from {
			return acc
		}
		acc = append(acc, cur.changed...)
	}
	return diffNames(from, rs)
}

// nameSum identifies a set of names regardless of order: their count and
// the sum of their hashes. Streams compare what a proxy subscribed to with
// a set's names through it instead of keeping every name.
type nameSum struct {
	sum uint64
	n   int
}

var nameSeed = maphash.MakeSeed()

func (s *nameSum) add(name string) { s.sum += maphash.String(nameSeed, name); s.n++ }

// classSnapshot is a class's immutable snapshot, one resourceSet per type.
type classSnapshot struct {
	sets    [types.UnknownType]*resourceSet
	version string // hash of the per-type versions
}

// snapshotTypes are the resource types a class snapshot carries, in the
// order a change is sent (clusters before their endpoints, listeners
// before their routes). Each is always present, empty or not: a type
// without a version would leave a proxy's first request unanswered.
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

// GetVersion returns the version of a type ("" when absent).
func (s *classSnapshot) GetVersion(typeURL string) string {
	if rs := s.set(typeURL); rs != nil {
		return rs.version
	}
	return ""
}

// GetResources returns the resources of a type by name, decoded from
// their wire form.
func (s *classSnapshot) GetResources(typeURL string) (map[string]types.Resource, error) {
	rs := s.set(typeURL)
	if rs == nil {
		return nil, nil
	}
	out := make(map[string]types.Resource, len(rs.items))
	for k, v := range rs.items {
		m, err := v.wire.Resource.UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", typeURL, k, err)
		}
		out[k] = m
	}
	return out, nil
}

// shed drops the messages of s's items once s is validated; only their
// wire forms are used after that.
func (s *classSnapshot) shed() {
	for _, rs := range s.sets {
		if rs == nil {
			continue
		}
		for _, it := range rs.items {
			it.res = nil
		}
	}
}

// GetVersionMap returns each resource's version by name.
func (s *classSnapshot) GetVersionMap(typeURL string) map[string]string {
	rs := s.set(typeURL)
	if rs == nil {
		return nil
	}
	out := make(map[string]string, len(rs.items))
	for k, v := range rs.items {
		out[k] = v.wire.Version
	}
	return out
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

// view is s as a cache.Snapshot (for validation).
func (s *classSnapshot) view() *cache.Snapshot {
	v := &cache.Snapshot{}
	for i, rs := range s.sets {
		if rs == nil {
			continue
		}
		items := make(map[string]types.ResourceWithTTL, len(rs.items))
		for k, it := range rs.items {
			items[k] = types.ResourceWithTTL{Resource: it.res}
		}
		v.Resources[i] = cache.Resources{Version: rs.version, Items: items}
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
		rs, err := newResourceSet(typ, byType[typ])
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", typ, err)
		}
		snap.sets[cache.GetResponseType(typ)] = rs
	}
	snap.setVersion()
	return snap, snap.version, nil
}

// following makes s the successor of prev for the streams' diffs: a set
// equal in version to prev's is replaced by prev's (so streams see no
// change at all), and any other is linked to it.
func (s *classSnapshot) following(prev *classSnapshot) {
	if prev == nil {
		return
	}
	for i, rs := range s.sets {
		old := prev.sets[i]
		switch {
		case rs == nil || old == nil || rs == old:
		case rs.version == old.version:
			s.sets[i] = old
		default:
			rs.linkFull(old)
		}
	}
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
	var changes []*item
	for _, cla := range clas {
		name := cla.GetClusterName()
		prev := old.items[name]
		if prev == nil {
			return nil, 0, fmt.Errorf("%w: %q", errNotInSnapshot, name)
		}
		x, err := newItem(old.typeURL, name, cla)
		if err != nil {
			return nil, 0, err
		}
		if x.d == prev.d {
			continue
		}
		if err := validateMessage(cla); err != nil {
			return nil, 0, fmt.Errorf("ClusterLoadAssignment %q: %w", name, err)
		}
		if err := checkPriorities(cla); err != nil {
			return nil, 0, fmt.Errorf("ClusterLoadAssignment %q: %w", name, err)
		}
		x.res = nil // validated: see item
		changes = append(changes, x)
	}
	if len(changes) == 0 {
		return s, 0, nil
	}
	rs := &resourceSet{typeURL: old.typeURL, items: maps.Clone(old.items), bytes: old.bytes, sum: old.sum}
	names := make([]string, 0, len(changes))
	for _, x := range changes {
		prev := rs.items[x.wire.Name]
		rs.sum.xor(prev.d)
		rs.sum.xor(x.d)
		rs.bytes += x.d.size - prev.d.size
		rs.items[x.wire.Name] = x
		names = append(names, x.wire.Name)
	}
	rs.setVersion()
	rs.link(old, names)
	next := &classSnapshot{sets: s.sets}
	next.sets[types.Endpoint] = rs
	next.setVersion()
	return next, len(changes), nil
}

// validatedIn reports, for validateExcept, the resources of s that one of
// published (validated snapshots: the class's last, and other classes')
// holds with the same version. A version digests the name and the
// encoding, and validating a resource depends on nothing else: a cluster
// that every gateway class shares is validated once, not once per class.
func (s *classSnapshot) validatedIn(published ...*classSnapshot) func(typeURL, name string) bool {
	known := validatedVersion(published)
	if known == nil {
		return nil
	}
	return func(typeURL, name string) bool {
		v := s.set(typeURL).versionOf(name)
		return v != "" && known(typeURL, name, v)
	}
}
