package xds

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"

	"github.com/causeway-dev/causeway/model"
)

func TestClip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"gateway-1", "gateway-1"},
		{strings.Repeat("a", logValueMax), strings.Repeat("a", logValueMax)},
		{strings.Repeat("a", logValueMax+1), strings.Repeat("a", logValueMax) + "…(257 bytes)"},
		// Cut at a rune boundary: "é" is two bytes, so 256 bytes end inside the 129th.
		{strings.Repeat("é", 200), strings.Repeat("é", 128) + "…(400 bytes)"},
	} {
		got := clip(tc.in)
		if got != tc.want {
			t.Errorf("clip(%d bytes) = %q, want %q", len(tc.in), got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("clip(%d bytes) is not valid UTF-8", len(tc.in))
		}
	}
}

// logGrowth returns how many bytes h's log grew while f ran.
func (h *harness) logGrowth(f func()) int {
	before := len(h.log.String())
	f()
	return len(h.log.String()) - before
}

// A 1 MiB node id costs a bounded amount of log per connection, whether
// the node is served, has unusable metadata, or is refused.
func TestHugeNodeIDLogsBounded(t *testing.T) {
	huge := strings.Repeat("n", 1<<20)
	const limit = 4 << 10 // a few clipped lines per connection
	t.Run("insecure", func(t *testing.T) {
		h := start(t, Options{Insecure: true})
		conn := h.bigConn(false)
		grew := h.logGrowth(func() {
			c := h.sotwOn(context.Background(), conn, gatewayNode(huge))
			c.served()
			c.close()
			bad := node(huge, "nobody", "cluster-1", model.Locality{})
			c = h.sotwOn(context.Background(), conn, bad)
			c.send(resource.ClusterType, "", "", nil, "")
			c.expectNone(resource.ClusterType)
			c.close()
			eventually(t, "both streams gone", func() bool {
				h.srv.smu.Lock()
				defer h.srv.smu.Unlock()
				return len(h.srv.streams) == 0
			})
		})
		if grew > 2*limit {
			t.Errorf("two connections with a 1 MiB node id logged %d bytes, want at most %d", grew, 2*limit)
		}
		t.Logf("two connections with a 1 MiB node id: %d bytes of log", grew)
	})
	t.Run("tls refusal", func(t *testing.T) {
		h := start(t, Options{MaxRecvMsgSize: 4 << 20})
		conn := h.dialTLS(issueClient(t, h.ca, model.RoleGateway, "cluster-1"))
		grew := h.logGrowth(func() {
			// Claims another cluster than its certificate's.
			c := h.sotwOn(context.Background(), conn, node(huge, model.RoleGateway, "cluster-2", model.Locality{}))
			c.refused(codes.PermissionDenied, "bytes)", "claims gateway/cluster-2")
		})
		if grew > limit {
			t.Errorf("a refused connection with a 1 MiB node id logged %d bytes, want at most %d", grew, limit)
		}
		t.Logf("a refused connection with a 1 MiB node id: %d bytes of log", grew)
	})
}

// A NACK storm (every response rejected with a 64 KiB message) is counted
// in full and logged in a few lines.
func TestNACKStormLogsBounded(t *testing.T) {
	const (
		nacks = 1000
		limit = 8 << 10
	)
	h := startADS(t, adsOpts{apps: 4})
	message := strings.Repeat("x", 64<<10)
	c := h.sotw(adsNode("storm"))
	lists := [][]string{apps(0), apps(1)}
	grew := h.logGrowth(func() {
		c.send(resource.EndpointType, "", "", lists[0], "")
		r := c.expect(resource.EndpointType)
		// Each request rejects the last response and names other load
		// assignments, so the next response is due at once.
		for i := range nacks {
			c.send(resource.EndpointType, "", r.GetNonce(), lists[(i+1)%2], message)
			r = c.expect(resource.EndpointType)
		}
	})
	if v := h.metric("causeway_xds_nacks_total", map[string]string{"type": resource.EndpointType}); v != nacks {
		t.Errorf("NACK metric %v, want %d", v, nacks)
	}
	if grew > limit {
		t.Errorf("%d NACKs of 64 KiB logged %d bytes, want at most %d", nacks, grew, limit)
	}
	t.Logf("%d NACKs of 64 KiB: %d bytes of log", nacks, grew)
	// The stream's end reports what its log lines left out.
	c.close()
	eventually(t, "the suppressed NACKs reported", func() bool {
		return strings.Contains(h.log.String(), "more NACKs than logged")
	})
}
