package model

import (
	"hash/maphash"
	"maps"
	"slices"
)

// interner gives a snapshot one copy of each distinct port list and label
// map. The endpoints of one workload carry equal ones (and the Services of
// one app in several clusters too), so a copy per endpoint used to be most
// of a snapshot's memory; sharing is safe because nothing writes to a
// snapshot. The copies are the snapshot's own: the writer's slices and
// maps are never shared with it.
type interner struct {
	endpointPorts map[uint64][][]EndpointPort
	servicePorts  map[uint64][][]ServicePort
	labels        map[uint64][]map[string]string
	// empty is the snapshot's one empty, non-nil label map (nil stays nil).
	empty map[string]string
}

func newInterner() *interner {
	return &interner{
		endpointPorts: map[uint64][][]EndpointPort{},
		servicePorts:  map[uint64][][]ServicePort{},
		labels:        map[uint64][]map[string]string{},
	}
}

// internSlice returns the copy of s in table (adding one), nil when s is
// empty, as append([]T(nil), s...) would.
func internSlice[T comparable](table map[uint64][][]T, s []T) []T {
	if len(s) == 0 {
		return nil
	}
	h := uint64(len(s))
	for _, x := range s {
		h = h*0x9E3779B97F4A7C15 + maphash.Comparable(endpointSeed, x)
	}
	for _, c := range table[h] {
		if slices.Equal(c, s) {
			return c
		}
	}
	// Clipped, so that a reader's append copies instead of writing into
	// the shared array.
	c := slices.Clip(slices.Clone(s))
	table[h] = append(table[h], c)
	return c
}

// labelMap returns the snapshot's copy of m (nil for nil).
func (in *interner) labelMap(m map[string]string) map[string]string {
	switch {
	case m == nil:
		return nil
	case len(m) == 0:
		if in.empty == nil {
			in.empty = map[string]string{}
		}
		return in.empty
	}
	h := uint64(len(m))
	for k, v := range m {
		h += maphash.Comparable(endpointSeed, [2]string{k, v})
	}
	for _, c := range in.labels[h] {
		if maps.Equal(c, m) {
			return c
		}
	}
	c := maps.Clone(m)
	in.labels[h] = append(in.labels[h], c)
	return c
}
