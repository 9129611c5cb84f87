package e2e

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
)

var gatewayClient = &http.Client{Timeout: 2 * time.Second}

// get sends one request for path through the cluster-1 gateway proxy and
// returns the answering backend's report; anything but a 200 from a backend
// is an error.
func get(path string) (backend.Response, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s:%d%s", gatewayAddress, gatewayPort, path), nil)
	if err != nil {
		return backend.Response{}, err
	}
	req.Host = bookinfoHost
	return e2eutil.GetBackend(gatewayClient, req)
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
