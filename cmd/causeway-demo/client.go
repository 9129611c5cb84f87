package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/causeway-dev/causeway/model"
)

// The in-cluster client: a client proxy Envoy (role client) in the cluster
// the demo's gateway is in, at .50 of that cluster's /24, answering DNS for
// the names it serves on clientDNSPort and carrying the calls of
// applications in the cluster to VirtualDestination hosts, with no ingress
// gateway and no sidecar on the way.

// clientProxyOctet is the last octet of a client proxy's address: above
// the gateway proxies (.1 to .9), below the east-west gateways (.100+).
const clientProxyOctet = 50

// clientDNSPort is where the client proxy answers DNS (the default).
const clientDNSPort = model.DefaultDNSPort

// clientProxyName names cluster's client proxy.
func clientProxyName(cluster string) string { return cluster + "-client" }

// clientProxy is the client proxy of c, a cluster with gateway proxies (so
// its first east-west gateway has an IPv4 address, checked by
// topologyFrom).
func clientProxy(c model.Cluster) proxySpec {
	ip := net.ParseIP(c.EastWestGateways[0].Address).To4()
	return proxySpec{
		Name: clientProxyName(c.Name), Role: model.RoleClient, Cluster: c.Name, Locality: c.Locality,
		Address: net.IPv4(ip[0], ip[1], ip[2], clientProxyOctet).String(),
	}
}

// DNSAddress is host:port of a client proxy's DNS (UDP).
func (p proxySpec) DNSAddress() string {
	return net.JoinHostPort(p.Address, strconv.Itoa(clientDNSPort))
}

// client returns the client proxy of cluster, if there is one.
func (t topology) client(cluster string) (proxySpec, bool) {
	for _, p := range t.Proxies {
		if p.Role == model.RoleClient && p.Cluster == cluster {
			return p, true
		}
	}
	return proxySpec{}, false
}

// clientCall is what the in-cluster client calls: a VirtualDestination
// host and port, and a path.
type clientCall struct {
	Host string
	Port uint32
	Path string
}

// virtualDestinationFor returns the first host and port of the first
// VirtualDestination (in world order) that selects a Service with labels.
func virtualDestinationFor(w *model.Snapshot, labels map[string]string) (string, uint32, bool) {
	for i := range w.VirtualDestinations() {
		vd := &w.VirtualDestinations()[i]
		if len(vd.Hosts) == 0 || len(vd.Ports) == 0 {
			continue
		}
		for _, svc := range w.SelectedServices(vd) {
			if hasLabels(svc.Labels, labels) {
				return vd.Hosts[0], vd.Ports[0].Number, true
			}
		}
	}
	return "", 0, false
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// resolveVia looks host up (IPv4) with the DNS server at dnsAddr only, as
// a pod whose cluster DNS forwards the name to the client proxy would.
func resolveVia(ctx context.Context, dnsAddr, host string) (netip.Addr, error) {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dnsAddr)
	}}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s through the client proxy's DNS %s: %w", host, dnsAddr, err)
	}
	return addrs[0], nil
}

// clientTarget resolves the client's host through its proxy's DNS and
// returns where to send the calls.
func (s *scenario) clientTarget(ctx context.Context) (target, error) {
	ip, err := resolveVia(ctx, s.client.DNSAddress(), s.clientCall.Host)
	if err != nil {
		return target{}, err
	}
	return target{
		Address: net.JoinHostPort(ip.String(), strconv.Itoa(int(s.clientCall.Port))),
		Host:    s.clientCall.Host, Path: s.clientCall.Path,
	}, nil
}

// clientLocal: answered in the client's own cluster, connected to by its
// client proxy.
func (s *scenario) clientLocal(a answer) bool {
	return a.Failure == "" && a.Cluster == s.client.Cluster && a.PeerIP == s.client.Address
}

// clientBatch resolves the host and sends batchSize calls like batch.
func (s *scenario) clientBatch(ctx context.Context, step string, ok func(answer) bool, want string) error {
	t, err := s.clientTarget(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	fmt.Fprintf(s.out, "%s: %s resolved to %s by %s's DNS (%s)\n", step, s.clientCall.Host, t.Address, s.client.Name, s.client.DNSAddress())
	return s.batch(ctx, step, t, ok, want)
}

// convergeClient waits (bounded) until a call through the client proxy
// satisfies ok.
func (s *scenario) convergeClient(ctx context.Context, ok func(answer) bool, what string) error {
	var t target
	var err error
	for i := 0; i < waitAttempts; i++ {
		if t, err = s.clientTarget(ctx); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(waitInterval):
		}
	}
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return s.converge(ctx, t, ok, what)
}

// sendClient is the prompt's `c`: resolve, ten calls, the tally.
func (s *scenario) sendClient(ctx context.Context) error {
	t, err := s.clientTarget(ctx)
	if err != nil {
		return err
	}
	tl := sendBatch(ctx, t, batchSize)
	fmt.Fprintf(s.out, "in-cluster client in %s: %s resolved to %s by %s's DNS; %d requests to http://%s:%d%s through it:\n",
		s.client.Cluster, s.clientCall.Host, t.Address, s.client.Name, tl.Total, s.clientCall.Host, s.clientCall.Port, s.clientCall.Path)
	tl.print(s.out, s.topo)
	return nil
}

// clientCommands are the commands a user can paste for the same lookup
// and call.
func (s *scenario) clientCommands() (dig, curl string) {
	return fmt.Sprintf("dig +short -p %d @%s %s", clientDNSPort, s.client.Address, s.clientCall.Host),
		fmt.Sprintf("curl -s --resolve %s:%d:%s http://%s:%d%s",
			s.clientCall.Host, s.clientCall.Port, s.client.Address, s.clientCall.Host, s.clientCall.Port, s.clientCall.Path)
}
