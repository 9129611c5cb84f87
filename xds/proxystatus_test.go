package xds

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
)

func TestSnapshotTypesFitReports(t *testing.T) {
	if len(snapshotTypes) != numSnapshotTypes {
		t.Fatalf("numSnapshotTypes = %d, snapshotTypes has %d", numSnapshotTypes, len(snapshotTypes))
	}
}

// statusOf returns the statuses of node's streams, newest first.
func statusOf(s *Server, node string) []ProxyStatus {
	var out []ProxyStatus
	for _, p := range s.ProxyStatuses() {
		if p.NodeID == node {
			out = append(out, p)
		}
	}
	return out
}

// typeOf returns the status of typeURL in p.
func typeOf(t *testing.T, p ProxyStatus, typeURL string) TypeStatus {
	t.Helper()
	for _, ts := range p.Types {
		if ts.TypeURL == typeURL {
			return ts
		}
	}
	t.Fatalf("no %s in %+v", typeURL, p)
	return TypeStatus{}
}

// awaitType polls node's newest stream until typeURL's status satisfies ok.
func awaitType(t *testing.T, s *Server, node, typeURL string, what string, ok func(TypeStatus) bool) TypeStatus {
	t.Helper()
	var last TypeStatus
	deadline := time.Now().Add(waitFor)
	for {
		if ps := statusOf(s, node); len(ps) > 0 {
			if last = typeOf(t, ps[0], typeURL); ok(last) {
				return last
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s of %s never got there; last %+v", what, typeURL, node, last)
		}
		time.Sleep(pollEvery)
	}
}

// The proxy status follows a state-of-the-world stream through a response,
// its ACK, a newer version and its NACK, and shows the other streams of
// the node (a delta reconnect) and an invalid node apart.
func TestProxyStatusFollowsStream(t *testing.T) {
	h := start(t, Options{Insecure: true})
	c := h.sotw(gatewayNode("gw-a"))
	c.send(resource.ClusterType, "", "", nil, "")
	r := c.expect(resource.ClusterType)

	sent := awaitType(t, h.srv, "gw-a", resource.ClusterType, "sent", func(ts TypeStatus) bool { return ts.Sent.Nonce != "" })
	if sent.Sync != Stale || sent.Sent.Version != r.GetVersionInfo() || sent.Sent.Nonce != r.GetNonce() || sent.Sent.At.IsZero() ||
		sent.ACKed.Nonce != "" || sent.Holds != "" || sent.Current != r.GetVersionInfo() || !sent.Requested {
		t.Errorf("before the ACK: %+v; want STALE, sent %s/%s", sent, r.GetVersionInfo(), r.GetNonce())
	}
	p := statusOf(h.srv, "gw-a")[0]
	if p.Class != gatewayProxy.ClassKey() || p.Proxy != gatewayProxy || p.Delta || p.RemoteAddress == "" || p.ConnectedAt.IsZero() {
		t.Errorf("stream: %+v; want class %s, proxy %+v, a remote address and connect time", p, gatewayProxy.ClassKey(), gatewayProxy)
	}
	for _, url := range []string{resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType} {
		if ts := typeOf(t, p, url); ts.Sync != NotSent || ts.Requested || ts.Current == "" {
			t.Errorf("%s, never requested: %+v; want NOT SENT with the class's current version", url, ts)
		}
	}

	c.ack(r, nil)
	acked := awaitType(t, h.srv, "gw-a", resource.ClusterType, "ACKed", func(ts TypeStatus) bool { return ts.Sync == Synced })
	if acked.ACKed.Nonce != r.GetNonce() || acked.ACKed.Version != r.GetVersionInfo() || acked.Holds != r.GetVersionInfo() {
		t.Errorf("after the ACK: %+v", acked)
	}

	// A newer version, rejected with a message longer than the bound.
	h.store.Publish(testWorld(worldOptions{ratings: true}))
	r2 := c.expect(resource.ClusterType)
	long := "cluster rejected: " + strings.Repeat("é", MaxNACKMessage)
	c.send(resource.ClusterType, r.GetVersionInfo(), r2.GetNonce(), nil, long)
	nacked := awaitType(t, h.srv, "gw-a", resource.ClusterType, "NACKed", func(ts TypeStatus) bool { return ts.Sync == NACKed })
	if nacked.NACKed.Version != r2.GetVersionInfo() || nacked.NACKed.Nonce != r2.GetNonce() || nacked.Holds != r.GetVersionInfo() ||
		nacked.Current != r2.GetVersionInfo() || nacked.ACKed.Nonce != r.GetNonce() {
		t.Errorf("after the NACK: %+v", nacked)
	}
	if m := nacked.NACKMessage; len(m) > MaxNACKMessage || !utf8.ValidString(m) || !strings.HasPrefix(m, "cluster rejected: éé") ||
		!strings.HasSuffix(m, fmt.Sprintf("(%d bytes)", len(long))) {
		t.Errorf("NACK message of %d bytes kept as %d bytes: %.80q…%q", len(long), len(m), m, m[max(0, len(m)-20):])
	}

	// The same node reconnects over delta while the old stream is open:
	// both are shown, the newest first.
	d := h.delta(gatewayNode("gw-a"))
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType})
	dr := d.expect(resource.ClusterType)
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType, ResponseNonce: dr.GetNonce()})
	awaitType(t, h.srv, "gw-a", resource.ClusterType, "delta ACKed", func(ts TypeStatus) bool { return ts.Sync == Synced })
	both := statusOf(h.srv, "gw-a")
	if len(both) != 2 || !both[0].Delta || both[1].Delta || both[0].StreamID == both[1].StreamID {
		t.Fatalf("two streams of gw-a: %+v; want the delta one first, then the state-of-the-world one", both)
	}
	if ts := typeOf(t, both[1], resource.ClusterType); ts.Sync != NACKed {
		t.Errorf("old stream: %+v; want still NACKED", ts)
	}

	// A node with unusable metadata has a class of its own and nothing sent.
	bad := h.sotw(&corev3.Node{Id: "bad-node"})
	bad.send(resource.ClusterType, "", "", nil, "")
	eventually(t, "the invalid node's stream", func() bool { return len(statusOf(h.srv, "bad-node")) == 1 })
	b := statusOf(h.srv, "bad-node")[0]
	if b.Class != invalidPrefix+"bad-node" || b.Proxy != (model.Proxy{}) {
		t.Errorf("invalid node: %+v", b)
	}
	if ts := typeOf(t, b, resource.ClusterType); ts.Sync != NotSent || !ts.Requested || ts.Current != "" {
		t.Errorf("invalid node's clusters: %+v; want requested, NOT SENT, no current version", ts)
	}

	c.close()
	eventually(t, "the closed stream to go", func() bool { return len(statusOf(h.srv, "gw-a")) == 1 })
	if got := statusOf(h.srv, "gw-a")[0]; !got.Delta {
		t.Errorf("after the old stream closed: %+v; want the delta stream", got)
	}
}

func TestSyncState(t *testing.T) {
	sent := Response{Version: "v2", Nonce: "2"}
	for _, tc := range []struct {
		name    string
		r       typeReport
		current string
		want    SyncState
	}{
		{"nothing", typeReport{requested: true}, "v1", NotSent},
		{"sent, unanswered", typeReport{sent: sent}, "v2", Stale},
		{"ACKed the current version", typeReport{sent: sent, acked: sent, holds: "v2"}, "v2", Synced},
		{"holds the current version unsent (reconnect)", typeReport{holds: "v2"}, "v2", Synced},
		{"ACKed, newer not sent yet", typeReport{sent: sent, acked: sent, holds: "v2"}, "v3", Stale},
		{"NACKed the last response", typeReport{sent: sent, nacked: sent, holds: "v1"}, "v2", NACKed},
		{"NACKed, then newer sent", typeReport{sent: Response{Version: "v3", Nonce: "3"}, nacked: sent, holds: "v1"}, "v3", Stale},
		{"NACKed, but the current version is what it holds", typeReport{sent: sent, nacked: sent, holds: "v1"}, "v1", Synced},
		{"no snapshot", typeReport{sent: sent, acked: sent, holds: "v2"}, "", Stale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := syncState(tc.r, tc.current); got != tc.want {
				t.Errorf("syncState = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestClipNACK(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"short", "rejected"},
		{"at the bound", strings.Repeat("x", MaxNACKMessage)},
		{"over the bound", strings.Repeat("x", MaxNACKMessage+1)},
		{"multi-byte runes at the cut", strings.Repeat("€", MaxNACKMessage)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clipNACK(tc.in)
			if len(got) > MaxNACKMessage || !utf8.ValidString(got) {
				t.Fatalf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
			if len(tc.in) <= MaxNACKMessage && got != tc.in {
				t.Errorf("a message within the bound changed")
			}
			if len(tc.in) > MaxNACKMessage && !strings.HasSuffix(got, fmt.Sprintf("(%d bytes)", len(tc.in))) {
				t.Errorf("a clipped message does not say how long it was: …%q", got[len(got)-20:])
			}
		})
	}
}

// BenchmarkProxyStatuses reads the status of 1,000 streams in 20 classes.
func BenchmarkProxyStatuses(b *testing.B) {
	store := &model.Store{}
	store.Publish(testWorld(worldOptions{}))
	authority, err := ca.LoadOrCreate(b.TempDir(), "causeway.local")
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(Options{Store: store, CA: authority, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	var keys []string
	for i := range 20 {
		p := gatewayProxy
		p.BindAddress = fmt.Sprintf("127.0.1.%d", i+1)
		keys = append(keys, addClass(b, s, p).key)
	}
	for i := range 1000 {
		key := keys[i%len(keys)]
		st := &streamState{class: key, node: &corev3.Node{Id: fmt.Sprintf("gw-%04d", i)}, opened: time.Now(), peer: "127.0.0.1:1234"}
		snap := s.cache.current(key)
		for j, url := range snapshotTypes {
			v := snap.GetVersion(url)
			r := Response{Version: v, Nonce: "1", At: time.Now()}
			st.reports[j] = typeReport{requested: true, sent: r, acked: r, holds: v, nacked: r, nackMessage: strings.Repeat("x", MaxNACKMessage)}
		}
		s.streams[streamKey{id: int64(i)}] = st
	}
	b.ReportAllocs()
	for b.Loop() {
		if n := len(s.ProxyStatuses()); n != 1000 {
			b.Fatalf("%d statuses", n)
		}
	}
}
