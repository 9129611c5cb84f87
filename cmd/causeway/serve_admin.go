package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/admin"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

func addAdminFlags(fs *pflag.FlagSet, f *serveFlags) {
	fs.StringVar(&f.adminAddress, "admin-address", admin.DefaultAddress,
		"address serving the debug endpoints (/debug/proxies: causeway proxy-status); keep it on loopback and reach it with kubectl port-forward (empty: off)")
}

// listenAdmin opens --admin-address; nil when it is off. The default
// address being taken (a second serve on one host, tests running several)
// is logged and turns the endpoints off; an address the operator chose
// must work. A non-loopback address is served, with a warning: the
// endpoints need no credentials and show every proxy's identity.
func listenAdmin(address string, log *slog.Logger) (net.Listener, error) {
	if address == "" {
		return nil, nil
	}
	lis, err := net.Listen("tcp", address)
	if errors.Is(err, syscall.EADDRINUSE) && address == admin.DefaultAddress {
		log.Warn("admin endpoints off: the default --admin-address is in use (another causeway serve on this host?); set --admin-address to serve them",
			"address", address)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--admin-address: %w", err)
	}
	if !admin.IsLoopback(address) {
		log.Warn("admin endpoints listen beyond loopback: anyone reaching --admin-address sees every connected proxy; "+
			"keep it on 127.0.0.1 and use kubectl port-forward", "address", lis.Addr().String())
	}
	return lis, nil
}

// adminPart serves the admin endpoints on lis.
func adminPart(ctx context.Context, lis net.Listener, srv *xds.Server, store *model.Store) servePart {
	h := admin.NewHandler(admin.Options{Proxies: srv, World: store.Load})
	return servePart{"admin server", func() error { return admin.Serve(ctx, lis, h) }}
}

// listenerAddress is lis's address for the log, "off" for none.
func listenerAddress(lis net.Listener) string {
	if lis == nil {
		return "off"
	}
	return lis.Addr().String()
}
