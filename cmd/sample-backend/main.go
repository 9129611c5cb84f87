// Command sample-backend is a tiny HTTP app that answers every request with
// JSON naming its cluster, instance, version and the peer that connected.
// The demo runs several of them as stand-in service instances.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/causeway-dev/causeway/internal/backend"
)

func main() {
	addr := flag.String("address", "127.0.0.1:9080", "host:port to listen on")
	cluster := flag.String("cluster", "", "cluster name to report")
	instance := flag.String("instance", "", "instance name to report")
	version := flag.String("version", "v1", "version to report")
	flag.Parse()

	s, err := backend.Start(*addr, backend.Info{Cluster: *cluster, Instance: *instance, Version: *version})
	if err != nil {
		log.Fatalf("sample-backend: %v", err)
	}
	log.Printf("sample-backend: %s/%s %s listening on %s", *cluster, *instance, *version, s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := s.Close(); err != nil {
		log.Printf("sample-backend: close: %v", err)
	}
}
