package backend

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Info identifies one backend instance.
type Info struct {
	Cluster  string `json:"cluster"`
	Instance string `json:"instance"`
	Version  string `json:"version"`
}

// Response is the JSON body every request receives.
type Response struct {
	Cluster  string `json:"cluster"`
	Instance string `json:"instance"`
	Version  string `json:"version"`
	// Peer is the remote address (host:port) of the connection, i.e. the
	// proxy that forwarded the request.
	Peer string `json:"peer"`
	Path string `json:"path"`
}

// Handler answers /healthz with "ok", ModePath with the failure mode (see
// Knobs) and every other path with a Response. The returned handler starts
// healthy and its mode can only be changed through ModePath; use Start for
// a Server whose mode a test can also set in-process.
func Handler(info Info) http.Handler { return newHandler(info, &Knobs{}) }

// newHandler serves info with the failure mode held by k.
//
// Every response closes its connection. East-west gateways forward TCP, so
// they pick a backend per connection; without the close, a proxy's pooled
// connection would pin all its requests to one instance and hide how load
// is spread.
func newHandler(info Info, k *Knobs) http.Handler {
	mux := http.NewServeMux()
	// Neither /healthz nor ModePath follows the failure mode: a readiness
	// probe would otherwise turn an outlier test into a readiness test, and
	// a delayed or failing mode could not be undone.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc(ModePath, k.serveHTTP)
	mux.HandleFunc(WebSocketPath, serveWebSocket)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mode := k.Mode()
		if mode.Delay > 0 {
			t := time.NewTimer(mode.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				// The caller gave up (a proxy's timeout): nobody reads the answer.
				t.Stop()
				return
			}
		}
		status := http.StatusOK
		if mode.Status != 0 {
			status = mode.Status
		}
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(Response{
			Cluster:  info.Cluster,
			Instance: info.Instance,
			Version:  info.Version,
			Peer:     r.RemoteAddr,
			Path:     r.URL.Path,
		})
	})
	return mux
}

// Server is a running backend.
type Server struct {
	*Knobs
	srv  *http.Server
	addr string
	done chan error
	// stop ends the base context of every request, which Shutdown does not
	// do for hijacked (WebSocket) connections.
	stop context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (host:port) and serves Handler(info) until Close.
// The Server's Knobs set its failure mode at runtime.
func Start(addr string, info Info) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	k := &Knobs{}
	base, stop := context.WithCancel(context.Background())
	s := &Server{
		Knobs: k,
		srv: &http.Server{Handler: newHandler(info, k), ReadHeaderTimeout: 5 * time.Second,
			BaseContext: func(net.Listener) context.Context { return base }},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
		stop: stop,
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server, giving in-flight requests up to 2 s. Calling it
// again returns the first call's result, so a test may close a backend
// early and still leave the Close in its cleanup.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	defer s.stop()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}
