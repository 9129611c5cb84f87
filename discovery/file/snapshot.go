package file

import "github.com/causeway-dev/causeway/model"

// snapshot is model.NewSnapshot(w), w being the world parsed (without
// errors) from docs, made from the snapshot of the last such world when
// the documents differ from its documents only in the contents of Services,
// VirtualDestinations and HTTPRoutes at the same places: then its cost grows with the
// documents that changed, not with the world. A nil cache remembers nothing.
func (c *docCache) snapshot(w model.World, docs []*docResult) *model.Snapshot {
	if c == nil {
		return model.NewSnapshot(w)
	}
	var snap *model.Snapshot
	if changes, ok := changedObjects(c.snapDocs, docs); ok && c.snap != nil {
		snap, ok = c.snap.With(changes)
		if !ok {
			snap = nil
		}
	}
	if snap == nil {
		snap = model.NewSnapshot(w)
	}
	c.snap, c.snapDocs = snap, docs
	for _, r := range docs {
		if r.service != nil {
			r.service.adopt(snap)
		}
	}
	return snap
}

// changedObjects returns the new contents of the objects of docs, the
// documents of a world parsed without errors, where they differ from last:
// ok is false unless every document is last's (the same parse) or, at the
// same place, a Service, VirtualDestination or HTTPRoute with the same key. Then the
// two worlds differ only in those objects: a document's number and what
// it adds depend only on its place, its bytes and (a Service's) its
// cluster, which did not change.
func changedObjects(last, docs []*docResult) (changes model.Changes, ok bool) {
	if len(last) != len(docs) {
		return changes, false
	}
	index := 0 // the document's number, as parseDocuments counts
	for i, r := range docs {
		if !r.blank {
			index++
		}
		if r == last[i] {
			continue
		}
		if !replaceable(last[i]) || !replaceable(r) || r.key != last[i].key {
			return model.Changes{}, false
		}
		switch {
		case r.service != nil:
			changes.Services = append(changes.Services, *r.service.built)
		case r.vd != nil:
			vd := *r.vd
			vd.Age.Seq = index
			changes.VirtualDestinations = append(changes.VirtualDestinations, vd)
		case r.route != nil:
			changes.HTTPRoutes = append(changes.HTTPRoutes, r.route)
		default:
			return model.Changes{}, false
		}
	}
	return changes, true
}

// replaceable is a valid Service, VirtualDestination or HTTPRoute document.
func replaceable(r *docResult) bool {
	return r.syntax == "" && len(r.errs) == 0 && r.add != nil && (r.service != nil || r.vd != nil || r.route != nil)
}
