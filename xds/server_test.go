package xds

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// fetched is one proxy's configuration as received over the wire.
type fetched struct {
	clusters  []*clusterv3.Cluster
	endpoints []*endpointv3.ClusterLoadAssignment
	listeners []*listenerv3.Listener
	routes    []*routev3.RouteConfiguration
	secrets   []*tlsv3.Secret
	versions  map[string]string // by type URL
}

// fetchAll walks the ADS sequence Envoy follows (CDS, EDS, LDS, RDS, SDS),
// acking each response, and returns what arrived and what the translator
// makes for p. Non-wildcard types name what the translator's output names,
// as Envoy names what its clusters and listeners reference.
func fetchAll(t *testing.T, h *harness, c *sotwClient, p model.Proxy) (fetched, *translator.Resources) {
	t.Helper()
	f := fetched{versions: map[string]string{}}
	get := func(typeURL string, names []string) []*anypb.Any {
		c.send(typeURL, "", "", names, "")
		r := c.expect(typeURL)
		c.ack(r, names)
		f.versions[typeURL] = r.GetVersionInfo()
		return r.GetResources()
	}
	f.clusters = sortByName(unpack[*clusterv3.Cluster](t, get(resource.ClusterType, nil)))
	want := h.want(p) // the first request issued the class's certificate
	f.endpoints = sortByName(unpack[*endpointv3.ClusterLoadAssignment](t, get(resource.EndpointType, names(want.Endpoints))))
	f.listeners = sortByName(unpack[*listenerv3.Listener](t, get(resource.ListenerType, nil)))
	f.routes = sortByName(unpack[*routev3.RouteConfiguration](t, get(resource.RouteType, names(want.Routes))))
	f.secrets = sortByName(unpack[*tlsv3.Secret](t, get(resource.SecretType, names(want.Secrets))))
	return f, want
}

func diffAll(t *testing.T, want *translator.Resources, got fetched) {
	t.Helper()
	for _, d := range []struct {
		what      string
		want, got any
	}{
		{"clusters", want.Clusters, got.clusters},
		{"endpoints", want.Endpoints, got.endpoints},
		{"listeners", want.Listeners, got.listeners},
		{"routes", want.Routes, got.routes},
		{"secrets", want.Secrets, got.secrets},
	} {
		if diff := cmp.Diff(d.want, d.got, protocmp.Transform()); diff != "" {
			t.Errorf("%s differ from the translator's output (-want +got):\n%s", d.what, diff)
		}
	}
}

// checkSecrets checks the SDS secrets independently of the translator: the
// root is the CA's, the identity certificate verifies against it and names
// the class's SPIFFE ID.
func checkSecrets(t *testing.T, h *harness, secrets []*tlsv3.Secret, p model.Proxy) *x509.Certificate {
	t.Helper()
	if got := names(secrets); !slices.Equal(got, []string{translator.IdentitySecretName, translator.RootCASecretName}) {
		t.Fatalf("secrets = %v", got)
	}
	root := secrets[1].GetValidationContext().GetTrustedCa().GetInlineBytes()
	if string(root) != string(h.ca.RootPEM()) {
		t.Errorf("%s is not the CA root", translator.RootCASecretName)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(root)
	blk, _ := pem.Decode(secrets[0].GetTlsCertificate().GetCertificateChain().GetInlineBytes())
	if blk == nil {
		t.Fatalf("%s has no PEM certificate", translator.IdentitySecretName)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("identity certificate does not verify: %v", err)
	}
	if want := h.ca.SpiffeID(string(p.Role), p.Cluster); len(cert.URIs) != 1 || cert.URIs[0].String() != want {
		t.Errorf("identity URIs = %v, want %s", cert.URIs, want)
	}
	return cert
}

// endpointAddresses lists "address:port" of every LbEndpoint of the named CLA.
func endpointAddresses(clas []*endpointv3.ClusterLoadAssignment, name string) []string {
	var out []string
	for _, cla := range clas {
		if cla.GetClusterName() != name {
			continue
		}
		for _, le := range cla.GetEndpoints() {
			for _, lb := range le.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				out = append(out, fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()))
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestStateOfTheWorldServesClassAndUpdates(t *testing.T) {
	h := start(t, Options{Insecure: true})
	c := h.sotw(gatewayNode("gateway-a"))
	got, want := fetchAll(t, h, c, gatewayProxy)
	diffAll(t, want, got)
	checkSecrets(t, h, got.secrets, gatewayProxy)

	// What the design guarantees for this world, independent of the translator's details.
	outbound := translator.OutboundClusterName(reviewsHost, 9080)
	if !slices.Contains(names(got.clusters), outbound) {
		t.Errorf("clusters %v lack %s", names(got.clusters), outbound)
	}
	// Local endpoint as-is; cluster-2's endpoint replaced by its east-west gateway.
	if addrs, want := endpointAddresses(got.endpoints, outbound), []string{"127.0.1.10:9080", "127.0.2.100:15443"}; !slices.Equal(addrs, want) {
		t.Errorf("%s endpoints = %v, want %v", outbound, addrs, want)
	}
	if v := h.metric("causeway_xds_connected_proxies", map[string]string{"role": "gateway", "cluster": "cluster-1"}); v != 1 {
		t.Errorf("connected proxies = %v, want 1", v)
	}
	if v := h.metric("causeway_snapshot_published_total", nil); v != 1 {
		t.Errorf("published = %v, want 1", v)
	}

	// A new endpoint: EDS is pushed, CDS (unchanged) is not.
	h.store.Publish(testWorld(worldOptions{extraEndpoint: true}))
	r := c.expect(resource.EndpointType)
	if r.GetVersionInfo() == got.versions[resource.EndpointType] {
		t.Errorf("EDS update kept version %q", r.GetVersionInfo())
	}
	want2 := h.want(gatewayProxy)
	gotEDS := sortByName(unpack[*endpointv3.ClusterLoadAssignment](t, r.GetResources()))
	if diff := cmp.Diff(want2.Endpoints, gotEDS, protocmp.Transform()); diff != "" {
		t.Errorf("updated endpoints (-want +got):\n%s", diff)
	}
	if addrs := endpointAddresses(gotEDS, outbound); !slices.Contains(addrs, "127.0.1.11:9080") {
		t.Errorf("%s endpoints %v lack the new 127.0.1.11:9080", outbound, addrs)
	}
	c.ack(r, names(want2.Endpoints))
	eventually(t, "the EDS ACK in causeway_convergence_seconds", func() bool {
		return h.histogramCount("causeway_convergence_seconds", map[string]string{"type": resource.EndpointType}) >= 2
	})
	if n := h.histogramCount("causeway_translation_seconds", map[string]string{"scope": "endpoints"}); n != 1 {
		t.Errorf("endpoint fast-path translations = %d, want 1", n)
	}
	c.expectNone(resource.ClusterType)
}

func TestNACKIsCountedAndNotResent(t *testing.T) {
	h := start(t, Options{Insecure: true})
	c := h.sotw(gatewayNode("gateway-a"))
	c.send(resource.ClusterType, "", "", nil, "")
	r := c.expect(resource.ClusterType)

	// Reject it, as Envoy does: the last accepted version (none) and the
	// rejected response's nonce.
	c.send(resource.ClusterType, "", r.GetNonce(), nil, "cluster rejected: test")
	labels := map[string]string{"type": resource.ClusterType}
	eventually(t, "the NACK counter", func() bool { return h.metric("causeway_xds_nacks_total", labels) == 1 })
	c.expectNone(resource.ClusterType)
	if log := h.log.String(); !strings.Contains(log, "NACK") || !strings.Contains(log, "cluster rejected: test") {
		t.Errorf("NACK not logged with its message:\n%s", log)
	}

	// A new version is still delivered after a NACK.
	h.store.Publish(testWorld(worldOptions{ratings: true}))
	r2 := c.expect(resource.ClusterType)
	if r2.GetVersionInfo() == r.GetVersionInfo() {
		t.Fatalf("pushed the rejected version %q again", r2.GetVersionInfo())
	}
	if !slices.Contains(names(unpack[*clusterv3.Cluster](t, r2.GetResources())), translator.OutboundClusterName(ratingsHost, 9080)) {
		t.Errorf("new version lacks the ratings cluster")
	}
	c.ack(r2, nil)
	c.expectNone(resource.ClusterType)
}

func TestDisconnectClearsClass(t *testing.T) {
	h := start(t, Options{Insecure: true})
	c := h.sotw(gatewayNode("gateway-a"))
	c.send(resource.ClusterType, "", "", nil, "")
	c.expect(resource.ClusterType)
	key := gatewayProxy.ClassKey()
	if got := h.srv.ActiveClasses(); !slices.Equal(got, []string{key}) {
		t.Fatalf("active classes = %v, want [%s]", got, key)
	}
	if _, err := h.srv.cache.GetSnapshot(key); err != nil {
		t.Fatal(err)
	}

	c.close()
	eventually(t, "the class to be forgotten", func() bool { return len(h.srv.ActiveClasses()) == 0 })
	if _, err := h.srv.cache.GetSnapshot(key); err == nil {
		t.Error("snapshot of a class without proxies still cached")
	}
	if keys := h.srv.cache.GetStatusKeys(); len(keys) != 0 {
		t.Errorf("cache status still holds %v", keys)
	}
	if v := h.metric("causeway_xds_connected_proxies", map[string]string{"role": "gateway", "cluster": "cluster-1"}); v != 0 {
		t.Errorf("connected proxies = %v after disconnect", v)
	}
	h.srv.mu.Lock()
	certs := len(h.srv.certs)
	h.srv.mu.Unlock()
	if certs != 0 {
		t.Errorf("%d certificates kept for a class that is gone", certs)
	}

	// Reconnecting builds the class again.
	c2 := h.sotw(gatewayNode("gateway-a"))
	c2.send(resource.ClusterType, "", "", nil, "")
	c2.expect(resource.ClusterType)
}

func TestDeltaServesSameResources(t *testing.T) {
	h := start(t, Options{Insecure: true})
	d := h.delta(gatewayNode("gateway-delta"))
	clusters := deltaSubscribe[*clusterv3.Cluster](d, resource.ClusterType, nil)
	want := h.want(gatewayProxy)
	got := fetched{clusters: sortByName(clusters)}
	got.endpoints = sortByName(deltaSubscribe[*endpointv3.ClusterLoadAssignment](d, resource.EndpointType, names(want.Endpoints)))
	got.listeners = sortByName(deltaSubscribe[*listenerv3.Listener](d, resource.ListenerType, nil))
	got.routes = sortByName(deltaSubscribe[*routev3.RouteConfiguration](d, resource.RouteType, names(want.Routes)))
	got.secrets = sortByName(deltaSubscribe[*tlsv3.Secret](d, resource.SecretType, names(want.Secrets)))
	diffAll(t, want, got)
	checkSecrets(t, h, got.secrets, gatewayProxy)

	// An endpoint change sends only the changed CLA.
	h.store.Publish(testWorld(worldOptions{extraEndpoint: true}))
	r := d.expect(resource.EndpointType)
	outbound := translator.OutboundClusterName(reviewsHost, 9080)
	updated := deltaResources[*endpointv3.ClusterLoadAssignment](t, r)
	if got := names(updated); !slices.Equal(got, []string{outbound}) {
		t.Errorf("delta update carries %v, want only %s", got, outbound)
	}
	if addrs := endpointAddresses(updated, outbound); !slices.Contains(addrs, "127.0.1.11:9080") {
		t.Errorf("%s endpoints %v lack 127.0.1.11:9080", outbound, addrs)
	}
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: r.GetNonce()})
	eventually(t, "the delta EDS ACK in causeway_convergence_seconds", func() bool {
		return h.histogramCount("causeway_convergence_seconds", map[string]string{"type": resource.EndpointType}) >= 2
	})

	// A delta NACK is counted and nothing is resent.
	h.store.Publish(testWorld(worldOptions{}))
	r = d.expect(resource.EndpointType)
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: r.GetNonce(),
		ErrorDetail: &statuspb.Status{Code: 3, Message: "bad endpoints"}})
	eventually(t, "the delta NACK counter", func() bool {
		return h.metric("causeway_xds_nacks_total", map[string]string{"type": resource.EndpointType}) == 1
	})
	select {
	case r := <-d.in:
		t.Fatalf("unexpected %s response after NACK", r.GetTypeUrl())
	case <-time.After(quietFor):
	}
}

func TestSameClassSharesOneSnapshot(t *testing.T) {
	h := start(t, Options{Insecure: true})
	a := h.sotw(gatewayNode("gateway-a"))
	b := h.sotw(gatewayNode("gateway-b"))
	other := h.sotw(node("gateway-c", model.RoleGateway, "cluster-1", model.Locality{Region: "us-east", Zone: "us-east-1b"}))
	var versions []string
	for _, c := range []*sotwClient{a, b, other} {
		c.send(resource.ClusterType, "", "", nil, "")
		r := c.expect(resource.ClusterType)
		c.ack(r, nil)
		versions = append(versions, r.GetVersionInfo())
	}
	if versions[0] != versions[1] {
		t.Errorf("same class got versions %q and %q", versions[0], versions[1])
	}
	key := gatewayProxy.ClassKey()
	otherKey := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1",
		Locality: model.Locality{Region: "us-east", Zone: "us-east-1b"}, BindAddress: "127.0.1.1", Gateway: model.AllGateways}.ClassKey()
	if got, want := h.srv.ActiveClasses(), []string{key, otherKey}; !slices.Equal(got, want) {
		t.Fatalf("active classes = %v, want %v", got, want)
	}
	keys := h.srv.cache.GetStatusKeys()
	slices.Sort(keys)
	if want := []string{key, otherKey}; !slices.Equal(keys, want) {
		t.Errorf("cache status keys = %v, want %v (one per class, not per node)", keys, want)
	}
	snap, err := h.srv.cache.GetSnapshot(key)
	if err != nil {
		t.Fatal(err)
	}
	if v := snap.GetVersion(resource.ClusterType); v != versions[0] {
		t.Errorf("class snapshot CDS version %q, proxies got %q", v, versions[0])
	}
	if v := h.metric("causeway_xds_connected_proxies", map[string]string{"role": "gateway", "cluster": "cluster-1"}); v != 3 {
		t.Errorf("connected proxies = %v, want 3", v)
	}
	if v := h.metric("causeway_snapshot_published_total", nil); v != 2 {
		t.Errorf("published = %v, want 2 (one per class)", v)
	}

	// One of two proxies leaving keeps the class.
	a.close()
	eventually(t, "the connected gauge to drop", func() bool {
		return h.metric("causeway_xds_connected_proxies", map[string]string{"role": "gateway", "cluster": "cluster-1"}) == 2
	})
	if _, err := h.srv.cache.GetSnapshot(key); err != nil {
		t.Errorf("class snapshot dropped while a proxy still uses it: %v", err)
	}
	h.store.Publish(testWorld(worldOptions{ratings: true}))
	b.expect(resource.ClusterType)
}

func TestInvalidNodeGetsNothing(t *testing.T) {
	h := start(t, Options{Insecure: true})
	c := h.sotw(node("sidecar-1", "sidecar", "cluster-1", model.Locality{}))
	c.send(resource.ClusterType, "", "", nil, "")
	c.expectNone(resource.ClusterType)
	if v := h.metric("causeway_xds_invalid_nodes_total", nil); v != 1 {
		t.Errorf("invalid nodes = %v, want 1", v)
	}
	if got := h.srv.ActiveClasses(); !slices.Equal(got, []string{"invalid~sidecar-1"}) {
		t.Errorf("active classes = %v", got)
	}
	if !strings.Contains(h.log.String(), `role \"sidecar\" is not`) {
		t.Errorf("the reason is not logged:\n%s", h.log.String())
	}
	c.close()
	eventually(t, "the invalid class to be forgotten", func() bool {
		return len(h.srv.ActiveClasses()) == 0 && len(h.srv.cache.GetStatusKeys()) == 0
	})
}

// TestRejectedSnapshotKeepsLastGood feeds the server a translation that
// fails validation (a priority gap) and checks proxies keep the last good one.
func TestRejectedSnapshotKeepsLastGood(t *testing.T) {
	var broken atomic.Bool
	h := start(t, Options{Insecure: true}, func(s *Server) {
		s.translate = func(w *model.Snapshot, p model.Proxy, c translator.Credentials, _ func(*endpointv3.ClusterLoadAssignment)) *translator.Resources {
			r := translator.Translate(w, p, c)
			if broken.Load() {
				r.Clusters = append(r.Clusters, edsCluster("zz-broken"))
				r.Endpoints = append(r.Endpoints, cla("zz-broken", 0, 2))
			}
			return r
		}
	})
	c := h.sotw(gatewayNode("gateway-a"))
	c.send(resource.ClusterType, "", "", nil, "")
	r := c.expect(resource.ClusterType)
	c.ack(r, nil)
	key := gatewayProxy.ClassKey()

	broken.Store(true)
	h.store.Publish(testWorld(worldOptions{ratings: true}))
	eventually(t, "the rejection counter", func() bool { return h.metric("causeway_snapshot_rejected_total", nil) == 1 })
	c.expectNone(resource.ClusterType)
	snap, err := h.srv.cache.GetSnapshot(key)
	if err != nil || snap.GetVersion(resource.ClusterType) != r.GetVersionInfo() {
		t.Errorf("cache no longer holds the last good version %q (err %v)", r.GetVersionInfo(), err)
	}
	log := h.log.String()
	for _, want := range []string{"snapshot failed validation", key, `ClusterLoadAssignment \"zz-broken\"`} {
		if !strings.Contains(log, want) {
			t.Errorf("rejection log lacks %q:\n%s", want, log)
		}
	}

	broken.Store(false)
	h.store.Publish(testWorld(worldOptions{}))
	h.store.Publish(testWorld(worldOptions{ratings: true}))
	r2 := c.expect(resource.ClusterType)
	if r2.GetVersionInfo() == r.GetVersionInfo() {
		t.Error("fixed translation not published")
	}
}

func TestDiagnosticsLoggedOncePerWorld(t *testing.T) {
	h := start(t, Options{Insecure: true}, func(s *Server) {
		s.translate = func(w *model.Snapshot, p model.Proxy, c translator.Credentials, _ func(*endpointv3.ClusterLoadAssignment)) *translator.Resources {
			r := translator.Translate(w, p, c)
			r.Diagnostics = []translator.Diagnostic{{Object: "HTTPRoute bookinfo/reviews", Field: "spec.rules[0].backendRefs[0]", Message: "test problem"}}
			return r
		}
	})
	for _, n := range []string{"us-east-1a", "us-east-1b"} {
		c := h.sotw(node("gw-"+n, model.RoleGateway, "cluster-1", model.Locality{Region: "us-east", Zone: n}))
		c.send(resource.ClusterType, "", "", nil, "")
		c.expect(resource.ClusterType)
	}
	if n := strings.Count(h.log.String(), "test problem"); n != 1 {
		t.Errorf("diagnostic logged %d times for two classes, want 1", n)
	}
	if v := h.metric("causeway_translation_diagnostics", map[string]string{"class": gatewayProxy.ClassKey()}); v != 1 {
		t.Errorf("diagnostics gauge = %v, want 1", v)
	}
	if !strings.Contains(h.log.String(), "spec.rules[0].backendRefs[0]") {
		t.Error("diagnostic field not logged")
	}
	h.store.Publish(testWorld(worldOptions{ratings: true}))
	eventually(t, "the diagnostic to be logged for the new world", func() bool {
		return strings.Count(h.log.String(), "test problem") == 2
	})
}

func TestCertificateRenewal(t *testing.T) {
	h := start(t, Options{Insecure: true, CertTTL: 2 * time.Second})
	// Two classes (two zones) share the gateway identity of cluster-1 and
	// so one certificate; both must get the renewed one.
	clients := []*sotwClient{
		h.sotw(gatewayNode("gateway-a")),
		h.sotw(node("gateway-b", model.RoleGateway, "cluster-1", model.Locality{Region: "us-east", Zone: "us-east-1b"})),
	}
	secretNames := []string{translator.IdentitySecretName, translator.RootCASecretName}
	var first []*x509.Certificate
	for _, c := range clients {
		c.send(resource.SecretType, "", "", secretNames, "")
		r := c.expect(resource.SecretType)
		c.ack(r, secretNames)
		first = append(first, checkSecrets(t, h, sortByName(unpack[*tlsv3.Secret](t, r.GetResources())), gatewayProxy))
	}
	if !first[0].Equal(first[1]) {
		t.Error("classes with the same identity got different certificates")
	}

	// Past half of the 2 s lifetime each class is re-published with a new certificate.
	for i, c := range clients {
		r := c.expect(resource.SecretType)
		c.ack(r, secretNames)
		renewed := checkSecrets(t, h, sortByName(unpack[*tlsv3.Secret](t, r.GetResources())), gatewayProxy)
		if renewed.Equal(first[i]) {
			t.Errorf("client %d: renewal kept the same certificate", i)
		}
		if !renewed.NotAfter.After(first[i].NotAfter) {
			t.Errorf("client %d: renewed certificate expires %v, not after %v", i, renewed.NotAfter, first[i].NotAfter)
		}
	}
}

func TestServeStopsWithOpenStreams(t *testing.T) {
	h := start(t, Options{Insecure: true})
	c := h.sotw(gatewayNode("gateway-a"))
	c.send(resource.ClusterType, "", "", nil, "")
	c.expect(resource.ClusterType)
	begin := time.Now()
	h.stop()
	if d := time.Since(begin); d > stopGrace {
		t.Errorf("stop took %v: GracefulStop waited for the open ADS stream", d)
	}
	if r := c.next(waitFor, resource.ClusterType); r != nil {
		t.Errorf("response after stop")
	}
	if len(h.srv.ActiveClasses()) != 0 {
		t.Errorf("classes left after stop: %v", h.srv.ActiveClasses())
	}
}

func TestRunRejectsBadAddress(t *testing.T) {
	h := start(t, Options{Insecure: true})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := h.srv.Run(ctx, "127.0.0.1:notaport"); err == nil {
		t.Error("Run with a bad address returned nil")
	}
}

func TestNewServerRequiresStoreAndCA(t *testing.T) {
	if _, err := NewServer(Options{}); err == nil {
		t.Error("NewServer without a store succeeded")
	}
	if _, err := NewServer(Options{Store: &model.Store{}}); err == nil {
		t.Error("NewServer without a CA succeeded")
	}
}
