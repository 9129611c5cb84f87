package kube

import (
	"reflect"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/causeway-dev/causeway/model"
)

// worldCache builds the same world as BuildWorld from the same objects but
// converts again only the Services whose objects changed since its last
// build, and tells whether the world changed, so the controller's work
// after one EndpointSlice update does not grow with the world.
//
// Objects are told apart by pointer: an informer cache replaces an
// object's pointer on every update and never modifies a cached object, so
// an unchanged pointer is an unchanged object. Callers must keep to that
// (a modified object is not noticed). The worlds share the unchanged
// Services' endpoints and the configuration with earlier worlds: nothing
// may modify them (model.NewSnapshot copies).
type worldCache struct {
	clusters map[string]*clusterCache
	config   configCache
	// changed is set by a build that made a world different from the last.
	changed bool
	// structural is set by a build whose world differs from the last in
	// more than the contents of the Services in delta (new contents).
	structural bool
	delta      []model.Service
	// snap is the snapshot of the last build's world, once made; base is
	// the one of the build before, until snapshot makes snap from it.
	snap, base *model.Snapshot
}

// build is BuildWorld, reporting whether the world differs from the one
// the last build returned (the first build always does).
func (wc *worldCache) build(clusters []ClusterInfo, workloads map[string]*WorkloadObjects, config *ConfigObjects) (model.World, []error, bool) {
	last := wc.clusters
	wc.changed = last == nil
	wc.structural, wc.delta = wc.changed, nil
	wc.base, wc.snap = wc.snap, nil
	wc.clusters = make(map[string]*clusterCache, len(clusters))
	w, errs := assembleWorld(clusters, workloads, config, func(info ClusterInfo, objs *WorkloadObjects) (model.Cluster, []model.Service, []error) {
		cc := last[info.Name]
		if cc == nil || !reflect.DeepEqual(cc.info, info) {
			cc = &clusterCache{info: info}
			wc.structural = true
		}
		wc.clusters[info.Name] = cc
		c, services, errs, delta, structural := cc.convert(objs)
		wc.structural = wc.structural || structural
		wc.delta = append(wc.delta, delta...)
		return c, services, errs
	}, func(config *ConfigObjects, w *model.World) []error {
		errs, changed := wc.config.convert(config, w)
		wc.structural = wc.structural || changed
		return errs
	})
	for name := range last {
		if wc.clusters[name] == nil {
			wc.structural = true // a cluster left
		}
	}
	if config == nil && wc.config.valid {
		wc.config = configCache{}
		wc.structural = true
	}
	wc.changed = wc.structural || len(wc.delta) > 0
	if !wc.changed {
		wc.snap, wc.base = wc.base, nil
	}
	return w, errs, wc.changed
}

// snapshot is model.NewSnapshot(w), w being the world the last build
// returned, made from the snapshot of the world before when only the
// contents of some Services changed: then its cost grows with those
// Services, not with the world.
func (wc *worldCache) snapshot(w model.World) *model.Snapshot {
	if wc.snap != nil {
		return wc.snap
	}
	var ok bool
	if wc.base != nil && !wc.structural {
		wc.snap, ok = wc.base.With(model.Changes{Services: wc.delta})
	}
	if !ok {
		wc.snap = model.NewSnapshot(w)
	}
	wc.base, wc.delta = nil, nil
	return wc.snap
}

// clusterCache is one cluster's part of the last world and the objects it
// was converted from.
type clusterCache struct {
	info ClusterInfo
	// order is the Services' keys in world order (sortedServices's) and
	// position each Service's index in it.
	order    []string
	position map[*corev1.Service]int
	services map[string]*serviceEntry // by namespace/name
	// The keys of the objects: the Service an EndpointSlice belongs to
	// ("" for none), namespace/name of a Pod, name of a Node.
	sliceKeys map[*discoveryv1.EndpointSlice]string
	podKeys   map[*corev1.Pod]string
	nodeKeys  map[*corev1.Node]string
	// pods and nodes index them as workloadIndex does.
	pods    map[string]*corev1.Pod
	nodes   map[string]*corev1.Node
	cluster model.Cluster
	// out is the cluster's Services in world order.
	out []model.Service
}

// serviceEntry is one Service, the EndpointSlices its endpoints came from
// (in the index's order) and what it converted to.
type serviceEntry struct {
	svc    *corev1.Service
	slices []*discoveryv1.EndpointSlice
	out    model.Service
}

// convert is convertCluster for cc.info, converting again only the
// Services whose Service, EndpointSlices, or Pods and Nodes its endpoints
// name, are not the objects of the last call. Finding those is a pass over
// the objects' pointers, with no allocation when nothing changed. It also
// returns the converted Services that differ from the last call's (delta)
// and whether anything else changed (structural): the cluster, or which
// Services the world has.
func (cc *clusterCache) convert(objs *WorkloadObjects) (c model.Cluster, out []model.Service, errs []error, delta []model.Service, structural bool) {
	services, sameSet := cc.sortedServices(objs.Services)
	c, errs = clusterOf(cc.info, services)
	structural = !sameSet || !reflect.DeepEqual(c, cc.cluster)
	cc.cluster = c

	var changedSlices, changedPods, changedNodes map[string]bool
	cc.sliceKeys, changedSlices = trackKeys(cc.sliceKeys, objs.EndpointSlices, sliceServiceKey)
	cc.podKeys, changedPods = trackKeys(cc.podKeys, objs.Pods, func(p *corev1.Pod) string { return p.Namespace + "/" + p.Name })
	cc.nodeKeys, changedNodes = trackKeys(cc.nodeKeys, objs.Nodes, func(n *corev1.Node) string { return n.Name })
	if changedPods != nil || cc.pods == nil {
		cc.pods = byKey(cc.podKeys)
	}
	// A Node's labels rarely change: then everything is converted again.
	redoAll := changedNodes != nil || cc.nodes == nil
	if redoAll {
		cc.nodes = byKey(cc.nodeKeys)
	}

	redo := map[string]bool{} // the Services to convert again
	for i, svc := range services {
		key := cc.order[i]
		e := cc.services[key]
		if redoAll || e == nil || e.svc != svc || changedSlices[key] || namesPods(e.slices, changedPods) {
			redo[key] = true
		}
	}
	if sameSet && len(redo) == 0 {
		return c, cc.out, errs, nil, structural
	}
	idx := &workloadIndex{slices: sliceGroups(cc.sliceKeys, redo), pods: cc.pods, nodes: cc.nodes}
	entries := cc.services
	if !sameSet || entries == nil {
		entries = make(map[string]*serviceEntry, len(services))
	}
	out = make([]model.Service, 0, len(services))
	for i, svc := range services {
		key := cc.order[i]
		e := cc.services[key]
		if redo[key] {
			ne := &serviceEntry{svc: svc, slices: idx.slices[key]}
			if hasEndpoints(svc) {
				ne.out = idx.service(cc.info, svc)
			}
			switch {
			case e == nil || hasEndpoints(e.svc) != hasEndpoints(svc):
				structural = true // the Service joins or leaves the world
			case hasEndpoints(svc) && !reflect.DeepEqual(e.out, ne.out):
				delta = append(delta, ne.out)
			}
			e = ne
		}
		entries[key] = e
		if hasEndpoints(svc) {
			out = append(out, e.out)
		}
	}
	cc.services, cc.out = entries, out
	return c, out, errs, delta, structural
}

// sliceServiceKey is the namespace/name of the Service an EndpointSlice
// belongs to, "" for none (newWorkloadIndex leaves those out).
func sliceServiceKey(s *discoveryv1.EndpointSlice) string {
	svc := s.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return ""
	}
	return s.Namespace + "/" + svc
}

// sliceGroups is workloadIndex.slices for the Services in keys only.
func sliceGroups(sliceKeys map[*discoveryv1.EndpointSlice]string, keys map[string]bool) map[string][]*discoveryv1.EndpointSlice {
	out := map[string][]*discoveryv1.EndpointSlice{}
	if len(keys) == 0 {
		return out
	}
	for s, key := range sliceKeys {
		if key != "" && keys[key] {
			out[key] = append(out[key], s)
		}
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	return out
}

// trackKeys returns the key of every object of objs (nil ones left out)
// and the keys whose objects were added, replaced or removed since last
// (nil when none, and last itself is returned). Keys are computed for new
// objects only.
func trackKeys[T any](last map[*T]string, objs []*T, key func(*T) string) (map[*T]string, map[string]bool) {
	known, fresh := 0, false
	for _, o := range objs {
		if o == nil {
			continue
		}
		if _, ok := last[o]; ok {
			known++
		} else {
			fresh = true
		}
	}
	if last != nil && !fresh && known == len(last) {
		return last, nil
	}
	next := make(map[*T]string, len(objs))
	changed := map[string]bool{}
	for _, o := range objs {
		if o == nil {
			continue
		}
		k, ok := last[o]
		if !ok {
			k = key(o)
			changed[k] = true
		}
		next[o] = k
	}
	for o, k := range last {
		if _, ok := next[o]; !ok {
			changed[k] = true
		}
	}
	if len(changed) == 0 {
		changed = nil
	}
	return next, changed
}

// byKey indexes objects by their keys.
func byKey[T any](keys map[*T]string) map[string]*T {
	out := make(map[string]*T, len(keys))
	for o, k := range keys {
		out[k] = o
	}
	return out
}

// sortedServices is sortedServices(in), without sorting again when in
// holds the Services (by namespace/name) of the last call. It sets
// cc.order and cc.position and reports whether the Services are the last
// call's.
func (cc *clusterCache) sortedServices(in []*corev1.Service) ([]*corev1.Service, bool) {
	if out, ok := cc.sameServices(in); ok {
		return out, true
	}
	byKey := make(map[string]*corev1.Service, len(in))
	same := cc.services != nil
	for _, s := range in {
		if s == nil {
			continue
		}
		key := s.Namespace + "/" + s.Name
		byKey[key] = s
		if cc.services[key] == nil {
			same = false
		}
	}
	var out []*corev1.Service
	if same && len(byKey) == len(cc.order) {
		out = make([]*corev1.Service, len(cc.order))
		for i, key := range cc.order {
			out[i] = byKey[key]
		}
	} else {
		same = false
		out = sortedServices(in)
		cc.order = make([]string, len(out))
		for i, s := range out {
			cc.order[i] = s.Namespace + "/" + s.Name
		}
	}
	cc.position = make(map[*corev1.Service]int, len(out))
	for i, s := range out {
		cc.position[s] = i
	}
	return out, same
}

// sameServices returns in, in world order, if it holds exactly the Service
// objects of the last call.
func (cc *clusterCache) sameServices(in []*corev1.Service) ([]*corev1.Service, bool) {
	if cc.position == nil {
		return nil, false
	}
	out := make([]*corev1.Service, len(cc.order))
	n := 0
	for _, s := range in {
		if s == nil {
			continue
		}
		i, ok := cc.position[s]
		if !ok {
			return nil, false
		}
		out[i] = s
		n++
	}
	return out, n == len(cc.order)
}

// namesPods reports whether an endpoint of own refers to one of pods
// (keys namespace/name), as workloadIndex.podLabels looks them up.
func namesPods(own []*discoveryv1.EndpointSlice, pods map[string]bool) bool {
	if len(pods) == 0 {
		return false
	}
	for _, s := range own {
		for _, e := range s.Endpoints {
			ref := e.TargetRef
			if ref == nil || ref.Kind != "Pod" {
				continue
			}
			ns := s.Namespace
			if ref.Namespace != "" {
				ns = ref.Namespace
			}
			if pods[ns+"/"+ref.Name] {
				return true
			}
		}
	}
	return false
}

// configCache is the configuration part of the last world and the objects
// it was converted from.
type configCache struct {
	valid bool
	in    ConfigObjects
	out   model.World
	errs  []error
}

// convert is convertConfig, reused while every object is the last call's.
func (cc *configCache) convert(config *ConfigObjects, w *model.World) ([]error, bool) {
	changed := !cc.valid || !sameConfigObjects(&cc.in, config)
	if changed {
		var out model.World
		cc.errs = convertConfig(config, &out)
		cc.in, cc.out, cc.valid = cloneConfigObjects(config), out, true
	}
	w.VirtualDestinations = cc.out.VirtualDestinations
	w.ExternalServices = cc.out.ExternalServices
	w.FailoverPolicies = cc.out.FailoverPolicies
	w.OutlierDetectionPolicies = cc.out.OutlierDetectionPolicies
	w.Workspaces = cc.out.Workspaces
	w.GatewayClasses = cc.out.GatewayClasses
	w.Gateways = cc.out.Gateways
	w.HTTPRoutes = cc.out.HTTPRoutes
	w.ReferenceGrants = cc.out.ReferenceGrants
	w.Namespaces, w.Secrets = cc.out.Namespaces, cc.out.Secrets
	w.GatewayParameters = cc.out.GatewayParameters
	return cc.errs, changed
}

func sameConfigObjects(a, b *ConfigObjects) bool {
	return slices.Equal(a.VirtualDestinations, b.VirtualDestinations) &&
		slices.Equal(a.ExternalServices, b.ExternalServices) &&
		slices.Equal(a.FailoverPolicies, b.FailoverPolicies) &&
		slices.Equal(a.OutlierDetectionPolicies, b.OutlierDetectionPolicies) &&
		slices.Equal(a.Workspaces, b.Workspaces) &&
		slices.Equal(a.GatewayClasses, b.GatewayClasses) &&
		slices.Equal(a.Gateways, b.Gateways) &&
		slices.Equal(a.HTTPRoutes, b.HTTPRoutes) &&
		slices.Equal(a.ReferenceGrants, b.ReferenceGrants) &&
		slices.Equal(a.Namespaces, b.Namespaces) && slices.Equal(a.TLSSecrets, b.TLSSecrets) &&
		slices.Equal(a.GatewayParameters, b.GatewayParameters)
}

// cloneConfigObjects copies the lists (not the objects), so a caller
// reusing its slices cannot change what the cache compares with.
func cloneConfigObjects(c *ConfigObjects) ConfigObjects {
	return ConfigObjects{
		VirtualDestinations:      slices.Clone(c.VirtualDestinations),
		ExternalServices:         slices.Clone(c.ExternalServices),
		FailoverPolicies:         slices.Clone(c.FailoverPolicies),
		OutlierDetectionPolicies: slices.Clone(c.OutlierDetectionPolicies),
		Workspaces:               slices.Clone(c.Workspaces),
		GatewayClasses:           slices.Clone(c.GatewayClasses),
		Gateways:                 slices.Clone(c.Gateways),
		HTTPRoutes:               slices.Clone(c.HTTPRoutes),
		ReferenceGrants:          slices.Clone(c.ReferenceGrants),
		Namespaces:               slices.Clone(c.Namespaces),
		TLSSecrets:               slices.Clone(c.TLSSecrets),
		GatewayParameters:        slices.Clone(c.GatewayParameters),
	}
}
