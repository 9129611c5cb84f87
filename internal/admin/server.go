package admin

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

// DefaultAddress is `causeway serve --admin-address`'s default: loopback
// only, reached from elsewhere with kubectl port-forward.
const DefaultAddress = "127.0.0.1:9092"

// ProxySource lists the open xDS streams (xds.Server does).
type ProxySource interface {
	ProxyStatuses() []xds.ProxyStatus
}

// Options are what the endpoints read.
type Options struct {
	Proxies ProxySource
	// World is the world serve translates from now, for explain; nil
	// leaves /debug/explain out.
	World func() *model.Snapshot
}

// NewHandler returns the admin endpoints' handler.
func NewHandler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /debug/proxies", proxiesHandler{o.Proxies})
	mux.Handle("GET /debug/proxies/{node...}", proxiesHandler{o.Proxies})
	if o.World != nil {
		mux.Handle(ExplainPath, ExplainHandler(o.World))
	}
	return mux
}

// shutdownGrace bounds how long Serve waits for open requests.
const shutdownGrace = 5 * time.Second

// Serve serves h on lis until ctx is done, then shuts down within
// shutdownGrace; it closes lis. serve's metrics listener uses it too.
func Serve(ctx context.Context, lis net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(lis) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-served
	return err
}

// IsLoopback reports whether a listen address (host:port) accepts
// connections from this host only. An empty host or a name is not
// loopback: Go listens on every interface for ":9092".
func IsLoopback(address string) bool {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
