package backend

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
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

// Handler answers /healthz with "ok" and every other path with a Response.
//
// Every response closes its connection. East-west gateways forward TCP, so
// they pick a backend per connection; without the close, a proxy's pooled
// connection would pin all its requests to one instance and hide how load
// is spread.
func Handler(info Info) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "application/json")
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
	srv  *http.Server
	addr string
	done chan error
}

// Start listens on addr (host:port) and serves Handler(info) until Close.
func Start(addr string, info Info) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		srv:  &http.Server{Handler: Handler(info), ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server, giving in-flight requests up to 2 s.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}
