package model

import (
	"slices"
	"sync"
)

// serviceIndex finds the Services a selector may match without scanning
// every Service: by name, by namespace and by each label key=value. Built
// once per snapshot, on first use.
type serviceIndex struct {
	once    sync.Once
	byName  map[string][]int32
	byNS    map[string][]int32
	byLabel map[labelKV][]int32
}

type labelKV struct{ k, v string }

func (s *Snapshot) index() *serviceIndex {
	ix := s.svcIndex
	ix.once.Do(func() {
		ix.byName = map[string][]int32{}
		ix.byNS = map[string][]int32{}
		ix.byLabel = map[labelKV][]int32{}
		for i := range s.services {
			svc := &s.services[i]
			ix.byName[svc.Name] = append(ix.byName[svc.Name], int32(i))
			ix.byNS[svc.Namespace] = append(ix.byNS[svc.Namespace], int32(i))
			for k, v := range svc.Labels {
				ix.byLabel[labelKV{k, v}] = append(ix.byLabel[labelKV{k, v}], int32(i))
			}
		}
	})
	return ix
}

// candidates returns the indexes (ascending) of the Services sel may
// select, a superset of those it does; all is true when the selector
// constrains nothing the index knows (every Service is a candidate).
func (ix *serviceIndex) candidates(sel *ServiceSelector) (idx []int32, all bool) {
	best, found := []int32(nil), false
	consider := func(list []int32) {
		if !found || len(list) < len(best) {
			best, found = list, true
		}
	}
	if sel.Name != "" {
		consider(ix.byName[sel.Name])
	}
	if sel.Namespace != "" {
		consider(ix.byNS[sel.Namespace])
	}
	for k, v := range sel.Labels {
		consider(ix.byLabel[labelKV{k, v}])
		if len(best) == 0 {
			break
		}
	}
	return best, !found
}

// selectMatching returns the Services any of sels selects, in snapshot order.
func (s *Snapshot) selectMatching(sels []ServiceSelector) []*Service {
	if len(sels) == 0 {
		return nil
	}
	ix := s.index()
	var hits []int32
	for si := range sels {
		sel := &sels[si]
		cands, all := ix.candidates(sel)
		if all {
			return s.scanMatching(sels)
		}
		for _, i := range cands {
			if sel.Matches(&s.services[i]) {
				hits = append(hits, i)
			}
		}
	}
	if len(sels) > 1 {
		slices.Sort(hits)
		hits = slices.Compact(hits)
	}
	if len(hits) == 0 {
		return nil
	}
	out := make([]*Service, len(hits))
	for j, i := range hits {
		out[j] = &s.services[i]
	}
	return out
}

// scanMatching is selectMatching by looking at every Service.
func (s *Snapshot) scanMatching(sels []ServiceSelector) []*Service {
	var out []*Service
	for i := range s.services {
		for _, sel := range sels {
			if sel.Matches(&s.services[i]) {
				out = append(out, &s.services[i])
				break
			}
		}
	}
	return out
}
