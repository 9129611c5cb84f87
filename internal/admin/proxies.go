package admin

import (
	"bufio"
	"encoding/json"
	"net/http"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/xds"
)

// ProxyList is what GET /debug/proxies and /debug/proxies/{node} answer.
type ProxyList struct {
	Proxies []Proxy `json:"proxies"`
}

// Proxy is one open ADS stream (see xds.ProxyStatus).
type Proxy struct {
	Node string `json:"node"`
	// Stream tells the streams of one node apart.
	Stream int64 `json:"stream"`
	// Protocol is "sotw" (state of the world) or "delta".
	Protocol string `json:"protocol"`
	Class    string `json:"class"`
	// Role, Cluster, Gateway, Locality (region/zone/subzone) and
	// BindAddress are the class's identity; empty for an invalid node.
	Role          string    `json:"role,omitempty"`
	Cluster       string    `json:"cluster,omitempty"`
	Gateway       string    `json:"gateway,omitempty"`
	Locality      string    `json:"locality,omitempty"`
	BindAddress   string    `json:"bindAddress,omitempty"`
	ConnectedAt   time.Time `json:"connectedAt"`
	RemoteAddress string    `json:"remoteAddress,omitempty"`
	// Types are CDS, EDS, LDS, RDS and SDS, in the order Causeway sends a
	// change.
	Types []TypeStatus `json:"types"`
}

// TypeStatus is one resource type of a stream.
type TypeStatus struct {
	// Type is the short name (CDS, EDS, LDS, RDS, SDS).
	Type    string `json:"type"`
	TypeURL string `json:"typeUrl"`
	// Requested: the proxy has asked for the type on this stream.
	Requested bool `json:"requested"`
	// Sync is SYNCED, STALE, NACKED or NOT SENT (see xds.SyncState).
	Sync string `json:"sync"`
	// Current is the version Causeway would send now, Holds the one the
	// proxy is known to hold.
	Current string    `json:"current,omitempty"`
	Holds   string    `json:"holds,omitempty"`
	Sent    *Response `json:"sent,omitempty"`
	ACKed   *Response `json:"acked,omitempty"`
	NACKed  *NACK     `json:"nacked,omitempty"`
}

// Response is a response's version, nonce and time (sent or answered).
type Response struct {
	Version string    `json:"version"`
	Nonce   string    `json:"nonce"`
	At      time.Time `json:"at"`
}

// NACK is the last rejected response with the proxy's message (at most
// xds.MaxNACKMessage bytes).
type NACK struct {
	Response
	Message string `json:"message"`
}

// typeNames are the short names of the snapshot's types.
var typeNames = map[string]string{
	resource.ClusterType: "CDS", resource.EndpointType: "EDS", resource.ListenerType: "LDS",
	resource.RouteType: "RDS", resource.SecretType: "SDS",
}

// TypeNames are the short type names in the order the CLI shows them.
var TypeNames = []string{"CDS", "LDS", "EDS", "RDS", "SDS"}

// proxyOf converts a stream's status to its JSON form.
func proxyOf(p xds.ProxyStatus) Proxy {
	out := Proxy{
		Node: p.NodeID, Stream: p.StreamID, Protocol: "sotw", Class: p.Class,
		Role: string(p.Proxy.Role), Cluster: p.Proxy.Cluster, Gateway: p.Proxy.Gateway, BindAddress: p.Proxy.BindAddress,
		ConnectedAt: p.ConnectedAt.UTC(), RemoteAddress: p.RemoteAddress, Types: make([]TypeStatus, 0, len(p.Types)),
	}
	if p.Delta {
		out.Protocol = "delta"
	}
	if p.Proxy.Role != "" {
		out.Locality = p.Proxy.Locality.String()
	}
	for _, t := range p.Types {
		ts := TypeStatus{
			Type: typeNames[t.TypeURL], TypeURL: t.TypeURL, Requested: t.Requested, Sync: string(t.Sync),
			Current: t.Current, Holds: t.Holds, Sent: responseOf(t.Sent), ACKed: responseOf(t.ACKed),
		}
		if r := responseOf(t.NACKed); r != nil {
			ts.NACKed = &NACK{Response: *r, Message: t.NACKMessage}
		}
		out.Types = append(out.Types, ts)
	}
	return out
}

func responseOf(r xds.Response) *Response {
	if r.Nonce == "" {
		return nil
	}
	return &Response{Version: r.Version, Nonce: r.Nonce, At: r.At.UTC()}
}

// proxiesHandler answers /debug/proxies and, with a node path value,
// /debug/proxies/{node}.
type proxiesHandler struct{ src ProxySource }

func (h proxiesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	node := r.PathValue("node")
	statuses := h.src.ProxyStatuses()
	list := ProxyList{Proxies: make([]Proxy, 0, len(statuses))}
	for _, p := range statuses {
		if node == "" || p.NodeID == node {
			list.Proxies = append(list.Proxies, proxyOf(p))
		}
	}
	if node != "" && len(list.Proxies) == 0 {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no connected proxy with node id " + quote(node)})
		return
	}
	// One proxy at a time, compact: a thousand proxies are megabytes, and
	// encoding/json buffers (and indents) a whole value before writing it.
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	bw.WriteString(`{"proxies":[`)
	for i := range list.Proxies {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(&list.Proxies[i]); err != nil {
			return // the client went away
		}
	}
	bw.WriteString("]}\n")
	_ = bw.Flush()
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to tell it
}

// quote quotes a client-supplied string, bounded, for an error message.
func quote(s string) string {
	const most = 256
	if len(s) > most {
		s = s[:most] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
