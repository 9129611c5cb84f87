package model

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Snapshot is an immutable view of the world. Build one with NewSnapshot;
// never modify the slices or maps it returns.
type Snapshot struct {
	clusters            []Cluster
	services            []Service
	virtualDestinations []VirtualDestination
	gateways            []*Gateway
	httpRoutes          []*HTTPRoute
	referenceGrants     []*ReferenceGrant
	externalServices    []*ExternalService
	failoverPolicies    []*FailoverPolicy
	outlierPolicies     []*OutlierDetectionPolicy
	workspaces          []Workspace
	gatewayClasses      []*GatewayClass
	namespaces          []Namespace
	secrets             []Secret
	controllerName      string
	prov                provisioning

	clusterByName map[string]*Cluster
	// serviceByKey holds positions in services (the last of equal keys),
	// so that the snapshots With and WithoutEndpoints make share it.
	serviceByKey map[ServiceKey]int32

	// svcIndex is shared with the snapshots WithoutEndpoints makes (and
	// With, while no Service's labels change): it holds positions in
	// services, which they keep.
	svcIndex *serviceIndex
	// endpointHashes[i] fingerprints services[i].Endpoints, so that
	// EndpointsOnlyDiff need not compare every endpoint.
	endpointHashes []uint64
	// endpointBlocks[b] fingerprints endpointHashes[b*endpointBlock:][:endpointBlock].
	endpointBlocks []uint64
	// shape is the parts of shapeHash With updates.
	shape     shape
	shapeHash uint64
}

// World is the mutable input to NewSnapshot.
type World struct {
	Clusters                 []Cluster
	Services                 []Service
	VirtualDestinations      []VirtualDestination
	Gateways                 []*Gateway
	HTTPRoutes               []*HTTPRoute
	ReferenceGrants          []*ReferenceGrant
	ExternalServices         []*ExternalService
	FailoverPolicies         []*FailoverPolicy
	OutlierDetectionPolicies []*OutlierDetectionPolicy
	Workspaces               []Workspace
	// GatewayClasses, Namespaces and Secrets come from the management
	// cluster (or the world file); Secrets are kubernetes.io/tls only.
	GatewayClasses []*GatewayClass
	Namespaces     []Namespace
	Secrets        []Secret
	// ControllerName is the GatewayClass controllerName Causeway owns
	// (empty: DefaultControllerName).
	ControllerName string
	// GatewayParameters and Provisioning: see model/provision.go.
	GatewayParameters []*GatewayParameters
	Provisioning      bool
}

// NewSnapshot deep-copies w and sorts every list by name so that the
// snapshot is independent of its writer and deterministic to read.
func NewSnapshot(w World) *Snapshot {
	s := &Snapshot{
		clusters:            append([]Cluster(nil), w.Clusters...),
		virtualDestinations: make([]VirtualDestination, 0, len(w.VirtualDestinations)),
		clusterByName:       map[string]*Cluster{},
		serviceByKey:        make(map[ServiceKey]int32, len(w.Services)),
		svcIndex:            &serviceIndex{},
	}
	for i := range s.clusters {
		s.clusters[i].EastWestGateways = append([]GatewayAddress(nil), s.clusters[i].EastWestGateways...)
		s.clusters[i].GatewayServiceAddresses = slices.Clone(s.clusters[i].GatewayServiceAddresses)
	}
	s.services = copyServices(w.Services)
	for _, vd := range w.VirtualDestinations {
		s.virtualDestinations = append(s.virtualDestinations, copyVirtualDestination(vd))
	}
	for _, g := range w.Gateways {
		s.gateways = append(s.gateways, g.DeepCopy())
	}
	for _, r := range w.HTTPRoutes {
		s.httpRoutes = append(s.httpRoutes, r.DeepCopy())
	}
	for _, g := range w.ReferenceGrants {
		s.referenceGrants = append(s.referenceGrants, g.DeepCopy())
	}
	for _, o := range w.ExternalServices {
		s.externalServices = append(s.externalServices, o.DeepCopy())
	}
	for _, o := range w.FailoverPolicies {
		s.failoverPolicies = append(s.failoverPolicies, o.DeepCopy())
	}
	for _, o := range w.OutlierDetectionPolicies {
		s.outlierPolicies = append(s.outlierPolicies, o.DeepCopy())
	}
	for _, ws := range w.Workspaces {
		s.workspaces = append(s.workspaces, copyWorkspace(ws))
	}
	for _, gc := range w.GatewayClasses {
		s.gatewayClasses = append(s.gatewayClasses, gc.DeepCopy())
	}
	for _, ns := range w.Namespaces {
		ns.Labels = copyMap(ns.Labels)
		s.namespaces = append(s.namespaces, ns)
	}
	for _, sec := range w.Secrets {
		sec.CertPEM = slices.Clone(sec.CertPEM)
		sec.KeyPEM = slices.Clone(sec.KeyPEM)
		s.secrets = append(s.secrets, sec)
	}
	s.controllerName = w.ControllerName
	s.prov = newProvisioning(w)
	if s.controllerName == "" {
		s.controllerName = DefaultControllerName
	}
	sort.Slice(s.gatewayClasses, func(i, j int) bool { return s.gatewayClasses[i].Name < s.gatewayClasses[j].Name })
	sort.Slice(s.namespaces, func(i, j int) bool { return s.namespaces[i].Name < s.namespaces[j].Name })
	sortByKey(s.secrets, func(sec *Secret) string { return sec.Namespace + "/" + sec.Name })
	sortByNamespacedName(s.externalServices)
	sortByNamespacedName(s.failoverPolicies)
	sortByNamespacedName(s.outlierPolicies)
	sort.Slice(s.workspaces, func(i, j int) bool { return s.workspaces[i].Name < s.workspaces[j].Name })
	sort.Slice(s.referenceGrants, func(i, j int) bool {
		a, b := s.referenceGrants[i], s.referenceGrants[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	sort.Slice(s.clusters, func(i, j int) bool { return s.clusters[i].Name < s.clusters[j].Name })
	sortByKey(s.services, func(svc *Service) string { return svc.Key().String() })
	sortByKey(s.virtualDestinations, func(vd *VirtualDestination) string { return vd.Namespace + "/" + vd.Name })
	sort.Slice(s.gateways, func(i, j int) bool {
		return s.gateways[i].Namespace+"/"+s.gateways[i].Name < s.gateways[j].Namespace+"/"+s.gateways[j].Name
	})
	sort.Slice(s.httpRoutes, func(i, j int) bool {
		return s.httpRoutes[i].Namespace+"/"+s.httpRoutes[i].Name < s.httpRoutes[j].Namespace+"/"+s.httpRoutes[j].Name
	})
	for i := range s.clusters {
		s.clusterByName[s.clusters[i].Name] = &s.clusters[i]
	}
	for i := range s.services {
		s.serviceByKey[s.services[i].Key()] = int32(i)
	}
	s.endpointHashes = make([]uint64, len(s.services))
	for i := range s.services {
		s.endpointHashes[i] = endpointsHash(s.services[i].Endpoints)
	}
	s.endpointBlocks = endpointBlockHashes(s.endpointHashes)
	s.shape = shapeOf(s.services, s.virtualDestinations)
	s.shapeHash = s.shape.hash(len(s.services), len(s.virtualDestinations))
	return s
}

// namespacedObject is what sortByNamespacedName needs of a Kubernetes object.
type namespacedObject interface {
	GetNamespace() string
	GetName() string
}

func sortByNamespacedName[T namespacedObject](objs []T) {
	sort.Slice(objs, func(i, j int) bool {
		return objs[i].GetNamespace()+"/"+objs[i].GetName() < objs[j].GetNamespace()+"/"+objs[j].GetName()
	})
}

func copyWorkspace(ws Workspace) Workspace {
	ws.Namespaces = append([]WorkspaceNamespace(nil), ws.Namespaces...)
	ws.ImportFrom = append([]string(nil), ws.ImportFrom...)
	ws.ExportTo = append([]string(nil), ws.ExportTo...)
	if ws.Federation != nil {
		f := *ws.Federation
		f.Selectors = make([]ServiceSelector, len(ws.Federation.Selectors))
		for i, sel := range ws.Federation.Selectors {
			sel.Labels = copyMap(sel.Labels)
			f.Selectors[i] = sel
		}
		ws.Federation = &f
	}
	return ws
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// copyServices copies services for a snapshot. Every endpoint goes into
// one array (each Service's endpoints a clipped part of it, so no
// allocation is rounded up per Service), and port lists and label maps
// are shared through an interner.
func copyServices(services []Service) []Service {
	in := newInterner()
	n := 0
	for i := range services {
		n += len(services[i].Endpoints)
	}
	all := make([]Endpoint, n)
	out := make([]Service, len(services))
	for i, svc := range services {
		svc.Labels = in.labelMap(svc.Labels)
		svc.Ports = internSlice(in.servicePorts, svc.Ports)
		eps := all[:len(svc.Endpoints):len(svc.Endpoints)]
		all = all[len(svc.Endpoints):]
		for j, ep := range svc.Endpoints {
			ep.Ports = internSlice(in.endpointPorts, ep.Ports)
			ep.Labels = in.labelMap(ep.Labels)
			eps[j] = ep
		}
		if !slices.IsSortedFunc(eps, func(a, b Endpoint) int { return strings.Compare(a.Address, b.Address) }) {
			sort.SliceStable(eps, func(i, j int) bool { return eps[i].Address < eps[j].Address })
		}
		svc.Endpoints = eps
		out[i] = svc
	}
	return out
}

func copyVirtualDestination(vd VirtualDestination) VirtualDestination {
	vd.Hosts = append([]string(nil), vd.Hosts...)
	ports := make([]VirtualDestinationPort, len(vd.Ports))
	for i, p := range vd.Ports {
		if p.TargetPort != nil {
			tp := *p.TargetPort
			p.TargetPort = &tp
		}
		ports[i] = p
	}
	vd.Ports = ports
	sels := make([]ServiceSelector, len(vd.Services))
	for i, sel := range vd.Services {
		sel.Labels = copyMap(sel.Labels)
		sels[i] = sel
	}
	vd.Services = sels
	vd.Labels = copyMap(vd.Labels)
	ext := make([]ServiceSelector, len(vd.ExternalServices))
	for i, sel := range vd.ExternalServices {
		sel.Labels = copyMap(sel.Labels)
		ext[i] = sel
	}
	vd.ExternalServices = ext
	subsets := make([]Subset, len(vd.Subsets))
	for i, sub := range vd.Subsets {
		sub.Labels = copyMap(sub.Labels)
		subsets[i] = sub
	}
	vd.Subsets = subsets
	return vd
}

// WithoutEndpoints returns a snapshot equal to s except that no Service
// has endpoints, sharing everything else with s (so it is cheap). It is
// for indexes of a world's structure that are kept across changes of its
// endpoints: they must not keep every endpoint of an old world alive.
func (s *Snapshot) WithoutEndpoints() *Snapshot {
	t := *s
	t.services = make([]Service, len(s.services))
	none := endpointsHash(nil)
	t.endpointHashes = make([]uint64, len(s.services))
	for i := range s.services {
		t.services[i] = s.services[i]
		t.services[i].Endpoints = nil
		t.endpointHashes[i] = none
	}
	t.endpointBlocks = endpointBlockHashes(t.endpointHashes)
	return &t
}

// Clusters returns the clusters sorted by name.
func (s *Snapshot) Clusters() []Cluster { return s.clusters }

// Cluster returns the named cluster or nil.
func (s *Snapshot) Cluster(name string) *Cluster { return s.clusterByName[name] }

// Services returns every service sorted by cluster, namespace and name.
func (s *Snapshot) Services() []Service { return s.services }

// Service returns the service with the key or nil.
func (s *Snapshot) Service(k ServiceKey) *Service {
	i, ok := s.serviceByKey[k]
	if !ok {
		return nil
	}
	return &s.services[i]
}

// VirtualDestinations returns the VirtualDestinations sorted by namespace and name.
func (s *Snapshot) VirtualDestinations() []VirtualDestination { return s.virtualDestinations }

// Gateways returns the Gateways sorted by namespace and name.
func (s *Snapshot) Gateways() []*Gateway { return s.gateways }

// Gateway returns the Gateway namespace/name or nil.
func (s *Snapshot) Gateway(namespace, name string) *Gateway {
	key := namespace + "/" + name
	i, ok := slices.BinarySearchFunc(s.gateways, key, func(gw *Gateway, k string) int { return compareJoined(gw.Namespace, gw.Name, k) })
	if !ok {
		return nil
	}
	return s.gateways[i]
}

// HTTPRoutes returns the HTTPRoutes sorted by namespace and name.
func (s *Snapshot) HTTPRoutes() []*HTTPRoute { return s.httpRoutes }

// ReferenceGrants returns the ReferenceGrants sorted by namespace and name.
func (s *Snapshot) ReferenceGrants() []*ReferenceGrant { return s.referenceGrants }

// ExternalServices returns the ExternalServices sorted by namespace and name.
func (s *Snapshot) ExternalServices() []*ExternalService { return s.externalServices }

// FailoverPolicies returns the FailoverPolicies sorted by namespace and name.
func (s *Snapshot) FailoverPolicies() []*FailoverPolicy { return s.failoverPolicies }

// OutlierDetectionPolicies returns the OutlierDetectionPolicies sorted by namespace and name.
func (s *Snapshot) OutlierDetectionPolicies() []*OutlierDetectionPolicy { return s.outlierPolicies }

// Workspaces returns the workspaces sorted by name (none: one implicit workspace).
func (s *Snapshot) Workspaces() []Workspace { return s.workspaces }

// GatewayClasses returns the GatewayClasses sorted by name.
func (s *Snapshot) GatewayClasses() []*GatewayClass { return s.gatewayClasses }

// GatewayClass returns the named GatewayClass or nil.
func (s *Snapshot) GatewayClass(name string) *GatewayClass {
	i, ok := slices.BinarySearchFunc(s.gatewayClasses, name, func(gc *GatewayClass, n string) int { return strings.Compare(gc.Name, n) })
	if !ok {
		return nil
	}
	return s.gatewayClasses[i]
}

// Namespaces returns the management cluster's namespaces sorted by name.
func (s *Snapshot) Namespaces() []Namespace { return s.namespaces }

// Namespace returns the named namespace or nil.
func (s *Snapshot) Namespace(name string) *Namespace {
	i, ok := slices.BinarySearchFunc(s.namespaces, name, func(ns Namespace, n string) int { return strings.Compare(ns.Name, n) })
	if !ok {
		return nil
	}
	return &s.namespaces[i]
}

// Secrets returns the TLS Secrets sorted by namespace and name.
func (s *Snapshot) Secrets() []Secret { return s.secrets }

// Secret returns the named TLS Secret or nil.
func (s *Snapshot) Secret(namespace, name string) *Secret {
	key := namespace + "/" + name
	i, ok := slices.BinarySearchFunc(s.secrets, key, func(sec Secret, k string) int { return compareJoined(sec.Namespace, sec.Name, k) })
	if !ok {
		return nil
	}
	return &s.secrets[i]
}

// ControllerName is the GatewayClass controllerName Causeway owns.
func (s *Snapshot) ControllerName() string { return s.controllerName }

// Matches reports whether the selector selects svc.
func (sel ServiceSelector) Matches(svc *Service) bool {
	if sel.Cluster != "" && sel.Cluster != svc.Cluster {
		return false
	}
	if sel.Namespace != "" && sel.Namespace != svc.Namespace {
		return false
	}
	if sel.Name != "" && sel.Name != svc.Name {
		return false
	}
	for k, v := range sel.Labels {
		if got, ok := svc.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// SelectedServices returns the services any of vd's selectors select, in
// snapshot order.
func (s *Snapshot) SelectedServices(vd *VirtualDestination) []*Service {
	return s.selectMatching(vd.Services)
}

// SelectServices returns the services any of sels selects, in snapshot order.
func (s *Snapshot) SelectServices(sels []ServiceSelector) []*Service {
	return s.selectMatching(sels)
}

// Store publishes snapshots to readers. The zero value holds an empty world.
type Store struct {
	current atomic.Pointer[Snapshot]
	mu      sync.Mutex
	subs    []chan struct{}
}

// Load returns the current snapshot (never nil).
func (st *Store) Load() *Snapshot {
	if s := st.current.Load(); s != nil {
		return s
	}
	return NewSnapshot(World{})
}

// Publish makes snap current and wakes every subscriber.
func (st *Store) Publish(snap *Snapshot) {
	st.current.Store(snap)
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, ch := range st.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending; the reader will Load the newest.
		}
	}
}

// Subscribe returns a channel that receives a value after every Publish.
// Wake-ups coalesce: a slow reader sees the newest snapshot, not every one.
func (st *Store) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	st.mu.Lock()
	st.subs = append(st.subs, ch)
	st.mu.Unlock()
	return ch
}

// sortByKey sorts list by key, computing each key once (not per comparison).
func sortByKey[T any](list []T, key func(*T) string) {
	keys := make([]string, len(list))
	perm := make([]int, len(list))
	for i := range list {
		keys[i] = key(&list[i])
		perm[i] = i
	}
	if sort.SliceIsSorted(perm, func(a, b int) bool { return keys[a] < keys[b] }) {
		return
	}
	sort.SliceStable(perm, func(a, b int) bool { return keys[perm[a]] < keys[perm[b]] })
	sorted := make([]T, len(list))
	for i, j := range perm {
		sorted[i] = list[j]
	}
	copy(list, sorted)
}

// compareJoined is strings.Compare(namespace+"/"+name, key) without
// building the joined string (a lookup per HTTPRoute parentRef).
func compareJoined(namespace, name, key string) int {
	n := min(len(namespace), len(key))
	if c := strings.Compare(namespace, key[:n]); c != 0 || n == len(key) {
		if c == 0 { // key is a prefix of namespace: the joined string is longer
			return 1
		}
		return c
	}
	rest := key[n:]
	if rest[0] != '/' {
		return cmp.Compare(byte('/'), rest[0])
	}
	return strings.Compare(name, rest[1:])
}
