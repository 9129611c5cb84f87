package model

import (
	"encoding/binary"
	"hash/maphash"
	"reflect"
)

// EndpointsOnlyDiff reports whether new differs from old only in the
// endpoints of Services that exist in both (same Services, same labels and
// ports, same everything else), and if so which Services' endpoints
// changed. With ok false the caller must treat the change as structural.
func EndpointsOnlyDiff(old, new *Snapshot) (changed map[ServiceKey]bool, ok bool) {
	if old == nil || new == nil {
		return nil, false
	}
	changed = map[ServiceKey]bool{}
	if old == new {
		return changed, true
	}
	if old.shapeHash != new.shapeHash || len(old.services) != len(new.services) || !sameStructure(old, new) {
		return nil, false
	}
	// Only the blocks whose fingerprints differ are looked into, so a
	// change to a few Services costs about len(services)/endpointBlock
	// comparisons, not len(services).
	for b := range old.endpointBlocks {
		if old.endpointBlocks[b] == new.endpointBlocks[b] {
			continue
		}
		for i := b * endpointBlock; i < min((b+1)*endpointBlock, len(old.services)); i++ {
			if old.endpointHashes[i] != new.endpointHashes[i] {
				changed[old.services[i].Key()] = true
			}
		}
	}
	return changed, true
}

// endpointBlock is how many consecutive Services one block fingerprint
// covers.
const endpointBlock = 64

// endpointBlockHashes fingerprints each run of endpointBlock consecutive
// endpoint fingerprints.
func endpointBlockHashes(hashes []uint64) []uint64 {
	blocks := make([]uint64, (len(hashes)+endpointBlock-1)/endpointBlock)
	for b := range blocks {
		blocks[b] = endpointBlockHash(hashes, b)
	}
	return blocks
}

// endpointBlockHash fingerprints block b of hashes.
func endpointBlockHash(hashes []uint64, b int) uint64 {
	h := newHasher()
	for _, x := range hashes[b*endpointBlock : min((b+1)*endpointBlock, len(hashes))] {
		h.num(x)
	}
	return h.h.Sum64()
}

// endpointSeed is random per process: fingerprints are never stored or
// compared across processes, and no input can be crafted to collide.
var endpointSeed = maphash.MakeSeed()

// hasher writes values unambiguously (strings length-prefixed) into a
// maphash.Hash seeded with endpointSeed.
type hasher struct {
	h   maphash.Hash
	buf [8]byte
}

func newHasher() *hasher {
	h := &hasher{}
	h.h.SetSeed(endpointSeed)
	return h
}

func (h *hasher) num(n uint64) {
	binary.LittleEndian.PutUint64(h.buf[:], n)
	_, _ = h.h.Write(h.buf[:])
}

func (h *hasher) str(s string) {
	h.num(uint64(len(s)))
	_, _ = h.h.WriteString(s)
}

func (h *hasher) flag(b bool) {
	if b {
		h.num(1)
	} else {
		h.num(0)
	}
}

// labels hashes a map independently of iteration order.
func (h *hasher) labels(m map[string]string) {
	h.num(uint64(len(m)))
	var sum uint64
	for k, v := range m {
		sum += maphash.Comparable(endpointSeed, [2]string{k, v})
	}
	h.num(sum)
}

func (h *hasher) locality(l Locality) {
	h.str(l.Region)
	h.str(l.Zone)
	h.str(l.Subzone)
}

// endpointsHash fingerprints a Service's endpoints (order included, label
// order not). Two different lists collide with probability 2^-64.
func endpointsHash(eps []Endpoint) uint64 {
	h := newHasher()
	h.num(uint64(len(eps)))
	for i := range eps {
		ep := &eps[i]
		h.str(ep.Address)
		h.flag(ep.Ready)
		h.flag(ep.Stale)
		h.locality(ep.Locality)
		h.num(uint64(len(ep.Ports)))
		for _, p := range ep.Ports {
			h.str(p.Name)
			h.num(uint64(p.Port))
		}
		h.labels(ep.Labels)
	}
	return h.h.Sum64()
}

// shape is what EndpointsOnlyDiff would otherwise compare field by field
// on every change: the Services without their endpoints and the
// VirtualDestinations. Each list's part is a sum of one fingerprint per
// element and position, so that replacing a few elements (Snapshot.With)
// updates it without hashing the others; a sum of 64-bit keyed hashes
// collides by chance with probability about 2^-64, as one hash does.
type shape struct {
	services, vds uint64
}

// shapeOf fingerprints the Services (without endpoints) and the
// VirtualDestinations.
func shapeOf(services []Service, vds []VirtualDestination) shape {
	h := newHasher()
	var sh shape
	for i := range services {
		sh.services += serviceShape(h, i, &services[i])
	}
	for i := range vds {
		sh.vds += vdShape(h, i, &vds[i])
	}
	return sh
}

// hash is the snapshot's shapeHash for lists of these lengths.
func (sh shape) hash(services, vds int) uint64 {
	h := newHasher()
	h.num(uint64(services))
	h.num(sh.services)
	h.num(uint64(vds))
	h.num(sh.vds)
	return h.h.Sum64()
}

// serviceShape fingerprints the Service at position i without its
// endpoints, reusing h.
func serviceShape(h *hasher, i int, svc *Service) uint64 {
	h.h.Reset()
	h.num(uint64(i))
	h.str(svc.Cluster)
	h.str(svc.Namespace)
	h.str(svc.Name)
	h.labels(svc.Labels)
	h.num(uint64(len(svc.Ports)))
	for _, p := range svc.Ports {
		h.str(p.Name)
		h.num(uint64(p.Port))
		h.num(uint64(p.TargetPort))
		h.str(p.Protocol)
		h.str(p.AppProtocol)
	}
	return h.h.Sum64()
}

// vdShape fingerprints the VirtualDestination at position i, reusing h.
func vdShape(h *hasher, i int, vd *VirtualDestination) uint64 {
	selectors := func(sels []ServiceSelector) {
		h.num(uint64(len(sels)))
		for _, sel := range sels {
			h.labels(sel.Labels)
			h.str(sel.Name)
			h.str(sel.Namespace)
			h.str(sel.Cluster)
		}
	}
	h.h.Reset()
	h.num(uint64(i))
	h.str(vd.Namespace)
	h.str(vd.Name)
	h.num(uint64(len(vd.Hosts)))
	for _, host := range vd.Hosts {
		h.str(host)
	}
	h.num(uint64(len(vd.Ports)))
	for _, p := range vd.Ports {
		h.num(uint64(p.Number))
		h.str(p.Protocol)
		h.flag(p.TargetPort != nil)
		if p.TargetPort != nil {
			h.num(uint64(p.TargetPort.Number))
			h.str(p.TargetPort.Name)
		}
	}
	selectors(vd.Services)
	h.str(vd.TrafficDistribution)
	h.labels(vd.Labels)
	selectors(vd.ExternalServices)
	h.num(uint64(len(vd.Subsets)))
	for _, sub := range vd.Subsets {
		h.str(sub.Name)
		h.labels(sub.Labels)
	}
	h.num(uint64(vd.Age.CreationTimestamp.UnixNano()))
	h.flag(vd.Age.CreationTimestamp.IsZero())
	h.num(uint64(vd.Age.Seq))
	return h.h.Sum64()
}

// sameStructure compares everything but the Services and the
// VirtualDestinations (shapeHash covers those).
func sameStructure(old, new *Snapshot) bool {
	return sameStructureBesidesRoutes(old, new) && reflect.DeepEqual(old.httpRoutes, new.httpRoutes)
}

// sameStructureBesidesRoutes is sameStructure but for the HTTPRoutes.
func sameStructureBesidesRoutes(old, new *Snapshot) bool {
	return reflect.DeepEqual(old.clusters, new.clusters) &&
		reflect.DeepEqual(old.gateways, new.gateways) &&
		reflect.DeepEqual(old.referenceGrants, new.referenceGrants) &&
		reflect.DeepEqual(old.externalServices, new.externalServices) &&
		reflect.DeepEqual(old.failoverPolicies, new.failoverPolicies) &&
		reflect.DeepEqual(old.outlierPolicies, new.outlierPolicies) &&
		reflect.DeepEqual(old.workspaces, new.workspaces) &&
		reflect.DeepEqual(old.gatewayClasses, new.gatewayClasses) &&
		reflect.DeepEqual(old.namespaces, new.namespaces) &&
		reflect.DeepEqual(old.secrets, new.secrets) &&
		old.controllerName == new.controllerName &&
		reflect.DeepEqual(old.prov, new.prov)
}
