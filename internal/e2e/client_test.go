package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
)

var gatewayClient = &http.Client{Timeout: 2 * time.Second}

// get sends one request for path through the cluster-1 gateway proxy and
// returns the answering backend's report; anything but a 200 from a backend
// is an error.
func get(path string) (backend.Response, error) {
	var r backend.Response
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s:%d%s", gatewayAddress, gatewayPort, path), nil)
	if err != nil {
		return r, err
	}
	req.Host = bookinfoHost
	resp, err := gatewayClient.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, err
	}
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("GET %s: not a backend answer: %v: %.200s", path, err, body)
	}
	return r, nil
}

// peerHost is the address part of the backend's peer: the proxy that
// connected to it.
func peerHost(r backend.Response) string {
	host, _, err := net.SplitHostPort(r.Peer)
	if err != nil {
		return r.Peer
	}
	return host
}

// viaEastWest reports whether r came from cluster-2 through one of its
// east-west gateways.
func viaEastWest(r backend.Response) bool {
	h := peerHost(r)
	return r.Cluster == "cluster-2" && (h == "127.0.12.100" || h == "127.0.12.101")
}

// direct reports whether r came from cluster-1 straight from the gateway proxy.
func direct(r backend.Response) bool {
	return r.Cluster == "cluster-1" && peerHost(r) == gatewayAddress
}
