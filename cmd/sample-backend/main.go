// Command sample-backend is a tiny HTTP app that answers every request with
// JSON naming its cluster, instance, version and the peer that connected.
// The demo runs several of them as stand-in service instances.
//
// -fail-status and -delay start it misbehaving (every request answered with
// that status, or only after that delay) to try outlier detection, retries
// and timeouts; GET /__backend/mode?status=503, ?delay=2s or ?reset changes
// that at runtime.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
)

func main() {
	addr := flag.String("address", "127.0.0.1:9080", "host:port to listen on")
	cluster := flag.String("cluster", "", "cluster name to report")
	instance := flag.String("instance", "", "instance name to report")
	version := flag.String("version", "v1", "version to report")
	failStatus := flag.Int("fail-status", 0, "answer every request with this HTTP status (0: 200); see "+backend.ModePath)
	delay := flag.Duration("delay", 0, "answer every request after this delay; see "+backend.ModePath)
	flag.Parse()
	if err := checkFlags(*failStatus, *delay); err != nil {
		log.Fatalf("sample-backend: %v", err)
	}

	s, err := backend.Start(*addr, backend.Info{Cluster: *cluster, Instance: *instance, Version: *version})
	if err != nil {
		log.Fatalf("sample-backend: %v", err)
	}
	s.SetFailStatus(*failStatus)
	s.SetDelay(*delay)
	log.Printf("sample-backend: %s/%s %s listening on %s", *cluster, *instance, *version, s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := s.Close(); err != nil {
		log.Printf("sample-backend: close: %v", err)
	}
}

// checkFlags rejects failure flags the backend cannot honour, naming the flag.
func checkFlags(failStatus int, delay time.Duration) error {
	if failStatus != 0 && (failStatus < 200 || failStatus > 599) {
		return fmt.Errorf("-fail-status %d: want 0 or 200..599", failStatus)
	}
	if delay < 0 {
		return fmt.Errorf("-delay %v: must not be negative", delay)
	}
	return nil
}
