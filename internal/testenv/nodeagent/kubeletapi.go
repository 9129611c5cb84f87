package nodeagent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// kubeletPort is the kubelet API's usual port; the node address is this
// agent's own, so there is no clash.
const kubeletPort = 10250

// followPoll is how often a follow=true log request looks for new lines.
const followPoll = 200 * time.Millisecond

// serveKubeletAPI listens with HTTPS on the node address. The apiserver
// reaches it at the Node's InternalIP and daemonEndpoints port; without
// --kubelet-certificate-authority it does not verify the certificate, and
// this API asks for no client credentials.
func (a *Agent) serveKubeletAPI() error {
	cert, err := selfSigned(a.cfg.NodeName, a.NodeAddress().AsSlice())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(a.NodeAddress().String(), fmt.Sprint(kubeletPort)))
	if err != nil {
		return err
	}
	a.apiPort = kubeletPort
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", a.containerLogs)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return a.ctx },
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logf("nodeagent: kubelet API: %v", err)
		}
	}()
	go func() {
		defer a.wg.Done()
		<-a.ctx.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	}()
	return nil
}

// containerLogs serves a container's log as the apiserver's pods/log
// expects: plain text, PodLogOptions as query parameters.
func (a *Agent) containerLogs(w http.ResponseWriter, r *http.Request) {
	ns, name, cname := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	p := a.podByName(ns, name)
	if p == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s is not on node %s", ns, name, a.cfg.NodeName), http.StatusNotFound)
		return
	}
	c := p.container(cname)
	if c == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s has no container %q", ns, name, cname), http.StatusNotFound)
		return
	}
	o, err := parseLogOptions(r.URL.Query(), time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	logPath, ok := c.logPath(o.previous)
	if !ok {
		http.Error(w, fmt.Sprintf("container %q in pod %s/%s has no log yet (or no previous run)", cname, ns, name), http.StatusBadRequest)
		return
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	budget := int64(-1)
	if o.limitBytes > 0 {
		budget = o.limitBytes
	}
	// Complete lines only: a line being written is read on the next poll.
	off := int64(strings.LastIndexByte(string(data), '\n') + 1)
	budget = render(w, data[:off], o, budget)
	if !o.follow || o.previous || budget == 0 {
		return
	}
	o.tailLines, o.since = -1, time.Time{}
	flusher, _ := w.(http.Flusher)
	for {
		if flusher != nil {
			flusher.Flush()
		}
		running, _ := c.current()
		cur, _ := c.logPath(false)
		if !running || cur != logPath {
			return // the run ended: so does the stream (a kubelet's may go on)
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(followPoll):
		}
		data, err := os.ReadFile(logPath)
		if err != nil || int64(len(data)) < off {
			return // rotated by the size cap; the client may ask again
		}
		end := off + int64(strings.LastIndexByte(string(data[off:]), '\n')+1)
		if budget = render(w, data[off:end], o, budget); budget == 0 {
			return
		}
		off = end
	}
}

// selfSigned makes the kubelet API's serving certificate.
func selfSigned(name string, ip net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{ip},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
