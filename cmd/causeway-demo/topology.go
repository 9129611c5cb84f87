package main

import (
	"fmt"
	"net"
	"sort"
	"strconv"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// adminPort is every Envoy's admin port; each Envoy has its own address.
const adminPort = 19000

// proxySpec is one Envoy of the topology.
type proxySpec struct {
	Name     string // unique, e.g. cluster-1-gateway; also the node ID
	Role     model.Role
	Cluster  string
	Locality model.Locality
	Address  string // bind address of listeners and upstream connections
	Gateway  string // a gateway proxy's Gateway, "<namespace>/<name>"
}

// AdminAddress is host:port of the proxy's admin API.
func (p proxySpec) AdminAddress() string {
	return net.JoinHostPort(p.Address, strconv.Itoa(adminPort))
}

// backendSpec is one sample backend standing in for a service endpoint.
type backendSpec struct {
	Name    string // unique, e.g. cluster-1-reviews-v1
	Address string // host:port
	Info    backend.Info
}

// listenerSpec is one HTTP listener a gateway proxy serves.
type listenerSpec struct {
	Proxy    string // proxySpec.Name
	Address  string // host:port
	Hostname string // the Gateway listener's hostname; "" means any
}

// topology is every process the world implies, in a stable order.
type topology struct {
	Proxies   []proxySpec
	Backends  []backendSpec
	Listeners []listenerSpec
}

// maxGatewaysPerCluster bounds the gateway proxies of a cluster: they take
// addresses .1 to .9 of its /24, below the demo world's backends.
const maxGatewaysPerCluster = 9

// topologyFrom places the processes: a cluster's east-west gateways at
// their addresses, one gateway proxy per Gateway served there (the cluster's
// n-th Gateway at address .n of the /24 of its first east-west gateway),
// in a cluster with gateway proxies an in-cluster client proxy at .50
// (client.go), and a backend per endpoint address and port.
func topologyFrom(w *model.Snapshot) (topology, error) {
	var t topology
	for _, c := range w.Clusters() {
		gws := servedGateways(w, c.Name)
		if len(gws) > 0 {
			if len(c.EastWestGateways) == 0 {
				return t, fmt.Errorf("cluster %s: a gateway proxy is placed in the /24 of its first east-west gateway, and it has none", c.Name)
			}
			ip := net.ParseIP(c.EastWestGateways[0].Address).To4()
			if ip == nil {
				return t, fmt.Errorf("cluster %s: east-west gateway address %q is not IPv4", c.Name, c.EastWestGateways[0].Address)
			}
			if len(gws) > maxGatewaysPerCluster {
				return t, fmt.Errorf("cluster %s serves %d Gateways; the demo places at most %d gateway proxies per cluster", c.Name, len(gws), maxGatewaysPerCluster)
			}
		}
		for i, g := range gws {
			gw := proxySpec{
				Name: gatewayProxyName(c.Name, i), Role: model.RoleGateway, Cluster: c.Name, Locality: c.Locality,
				Address: gatewayProxyAddress(c, i), Gateway: g.Namespace + "/" + g.Name,
			}
			t.Proxies = append(t.Proxies, gw)
			t.Listeners = append(t.Listeners, gatewayListeners(gw, g)...)
		}
		if len(gws) > 0 {
			t.Proxies = append(t.Proxies, clientProxy(c))
		}
		for i, a := range c.EastWestGateways {
			t.Proxies = append(t.Proxies, proxySpec{
				Name: fmt.Sprintf("%s-eastwest-%d", c.Name, i+1), Role: model.RoleEastWest,
				Cluster: c.Name, Locality: c.Locality, Address: a.Address,
			})
		}
	}
	seen := map[string]string{}
	for _, svc := range w.Services() {
		for i, ep := range svc.Endpoints {
			instance := svc.Name
			if len(svc.Endpoints) > 1 {
				instance = fmt.Sprintf("%s-%d", svc.Name, i+1)
			}
			version := ep.Labels["version"]
			if version == "" {
				version = svc.Labels["version"]
			}
			for _, port := range ep.Ports {
				addr := net.JoinHostPort(ep.Address, strconv.Itoa(int(port.Port)))
				name := svc.Cluster + "-" + instance
				if first, dup := seen[addr]; dup {
					return t, fmt.Errorf("endpoint %s of %s is also an endpoint of %s: one backend per address", addr, name, first)
				}
				seen[addr] = name
				t.Backends = append(t.Backends, backendSpec{
					Name: name, Address: addr,
					Info: backend.Info{Cluster: svc.Cluster, Instance: instance, Version: version},
				})
			}
		}
	}
	sort.Slice(t.Backends, func(i, j int) bool { return t.Backends[i].Address < t.Backends[j].Address })
	for _, b := range t.Backends {
		host, _, _ := net.SplitHostPort(b.Address)
		if p, taken := t.proxyByAddress(host); taken {
			return t, fmt.Errorf("endpoint %s of %s is the address the demo gives proxy %s", b.Address, b.Name, p.Name)
		}
	}
	return t, nil
}

// servedGateways returns the Gateways a gateway proxy of cluster serves:
// Causeway's (translator.OwnsGateway), annotated with that cluster or not
// annotated at all.
func servedGateways(w *model.Snapshot, cluster string) []*model.Gateway {
	var out []*model.Gateway
	for _, g := range w.Gateways() {
		if !translator.OwnsGateway(w, g) {
			continue
		}
		if c, ok := g.Annotations[model.ClusterAnnotation]; !ok || c == cluster {
			out = append(out, g)
		}
	}
	return out
}

// gatewayProxyName names the proxy of cluster's i-th Gateway (from 0):
// "<cluster>-gateway", then "<cluster>-gateway-2" and on.
func gatewayProxyName(cluster string, i int) string {
	if i == 0 {
		return cluster + "-gateway"
	}
	return fmt.Sprintf("%s-gateway-%d", cluster, i+1)
}

// gatewayProxyAddress is .i+1 of the /24 of c's first east-west gateway
// (an IPv4 address, checked by topologyFrom).
func gatewayProxyAddress(c model.Cluster, i int) string {
	ip := net.ParseIP(c.EastWestGateways[0].Address).To4()
	return net.IPv4(ip[0], ip[1], ip[2], byte(i+1)).String()
}

// gatewayListeners are the listeners of g, served by its proxy p.
func gatewayListeners(p proxySpec, g *model.Gateway) []listenerSpec {
	var out []listenerSpec
	for _, l := range g.Spec.Listeners {
		ls := listenerSpec{Proxy: p.Name, Address: net.JoinHostPort(p.Address, strconv.Itoa(int(l.Port)))}
		if l.Hostname != nil {
			ls.Hostname = string(*l.Hostname)
		}
		out = append(out, ls)
	}
	return out
}

// proxyByAddress names the proxy bound to ip, for printing who connected.
func (t topology) proxyByAddress(ip string) (proxySpec, bool) {
	for _, p := range t.Proxies {
		if p.Address == ip {
			return p, true
		}
	}
	return proxySpec{}, false
}

// gateway returns the first gateway proxy and its first listener: where
// the demo sends its requests.
func (t topology) gateway() (proxySpec, listenerSpec, error) {
	for _, l := range t.Listeners {
		for _, p := range t.Proxies {
			if p.Name == l.Proxy {
				return p, l, nil
			}
		}
	}
	return proxySpec{}, listenerSpec{}, fmt.Errorf("the world has no Gateway with a listener, so there is nothing to send requests to")
}
