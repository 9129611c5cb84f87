package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/causeway-dev/causeway/model"
)

// Bounds of the waits for a configuration change to show in answers.
const (
	waitAttempts = 150
	waitInterval = 200 * time.Millisecond // with request time, at most ~30 s+
	batchSize    = 10
)

// scenario is the demo's story: the gateway of one cluster reaches reviews
// locally while its instances are ready and through another cluster's
// east-west gateway when they are not.
type scenario struct {
	topo      topology
	gateway   proxySpec
	reviews   target
	ratings   target
	worldPath string
	sel       readiness // the gateway cluster's reviews Services
	// client is the gateway cluster's client proxy and clientCall what an
	// application there calls through it (client.go); client.Name is
	// empty when the world gives the demo none.
	client     proxySpec
	clientCall clientCall
	out        io.Writer
}

func newScenario(topo topology, world *model.Snapshot, worldPath string, out io.Writer) (*scenario, error) {
	gw, l, err := topo.gateway()
	if err != nil {
		return nil, err
	}
	sel := readiness{Cluster: gw.Cluster, Labels: map[string]string{"app": "reviews"}}
	client, _ := topo.client(gw.Cluster)
	host, port, ok := virtualDestinationFor(world, sel.Labels)
	if client.Name != "" && !ok {
		return nil, fmt.Errorf("no VirtualDestination selects the Services labelled %v: the in-cluster client has nothing to call", sel.Labels)
	}
	return &scenario{
		client:     client,
		clientCall: clientCall{Host: host, Port: port, Path: "/reviews"},
		topo:       topo,
		gateway:    gw,
		reviews:    target{Address: l.Address, Host: l.Hostname, Path: "/reviews"},
		ratings:    target{Address: l.Address, Host: l.Hostname, Path: "/ratings"},
		worldPath:  worldPath,
		sel:        sel,
		out:        out,
	}, nil
}

// local: answered in the gateway's own cluster, connected to by the gateway itself.
func (s *scenario) local(a answer) bool {
	return a.Failure == "" && a.Cluster == s.gateway.Cluster && a.PeerIP == s.gateway.Address
}

// remote: answered in another cluster, connected to by that cluster's east-west gateway.
func (s *scenario) remote(a answer) bool {
	if a.Failure != "" || a.Cluster == s.gateway.Cluster {
		return false
	}
	p, ok := s.topo.proxyByAddress(a.PeerIP)
	return ok && p.Role == model.RoleEastWest && p.Cluster == a.Cluster
}

// batch sends batchSize requests, prints the tally and checks every answer.
func (s *scenario) batch(ctx context.Context, step string, t target, ok func(answer) bool, want string) error {
	tl := sendBatch(ctx, t, batchSize)
	fmt.Fprintf(s.out, "%s: %d requests to %s\n", step, tl.Total, t.URL())
	tl.print(s.out, s.topo)
	if !tl.all(ok) {
		return fmt.Errorf("%s: want every answer %s", step, want)
	}
	fmt.Fprintf(s.out, "  ok: every answer %s\n", want)
	return nil
}

// setReviewsReady edits the world file and reports it.
func (s *scenario) setReviewsReady(ready bool) error {
	n, err := setReadyInFile(s.worldPath, s.sel, ready)
	if err != nil {
		return err
	}
	state := "ready"
	if !ready {
		state = "NOT ready"
	}
	fmt.Fprintf(s.out, "marked %d %s reviews endpoints %s in %s; causeway reloads it\n", n, s.sel.Cluster, state, s.worldPath)
	return nil
}

// converge waits (bounded) until an answer satisfies ok and says how long it took.
func (s *scenario) converge(ctx context.Context, t target, ok func(answer) bool, what string) error {
	took, _, err := waitFor(ctx, t, ok, waitAttempts, waitInterval)
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	fmt.Fprintf(s.out, "  %s after %s\n", what, took.Round(10*time.Millisecond))
	return nil
}

const (
	wantLocal       = "from the gateway's own cluster, connected by the gateway"
	wantRemote      = "from another cluster, connected by its east-west gateway"
	wantClientLocal = "from the client's own cluster, connected by its client proxy"
)

// check runs the whole story and returns the first step that misbehaved.
func (s *scenario) check(ctx context.Context) error {
	steps := []func() error{
		func() error { return s.converge(ctx, s.reviews, s.local, "first local answer") },
		func() error { return s.batch(ctx, "healthy", s.reviews, s.local, wantLocal) },
		func() error {
			return s.batch(ctx, "ratings (only in another cluster)", s.ratings, s.remote, wantRemote)
		},
		func() error { return s.setReviewsReady(false) },
		func() error { return s.converge(ctx, s.reviews, s.remote, "failover") },
		func() error { return s.batch(ctx, "down", s.reviews, s.remote, wantRemote) },
		func() error { return s.setReviewsReady(true) },
		func() error { return s.converge(ctx, s.reviews, s.local, "failback") },
		func() error { return s.batch(ctx, "up", s.reviews, s.local, wantLocal) },
	}
	if s.client.Name != "" {
		steps = append(steps, s.clientSteps(ctx)...)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// clientSteps are the in-cluster client's part of the check: local
// answers through its client proxy while reviews is ready in its cluster,
// answers through another cluster's east-west gateway while it is not.
func (s *scenario) clientSteps(ctx context.Context) []func() error {
	return []func() error{
		func() error {
			return s.convergeClient(ctx, s.clientLocal, "first local answer to the in-cluster client")
		},
		func() error { return s.clientBatch(ctx, "in-cluster client, healthy", s.clientLocal, wantClientLocal) },
		func() error { return s.setReviewsReady(false) },
		func() error { return s.convergeClient(ctx, s.remote, "in-cluster client failover") },
		func() error { return s.clientBatch(ctx, "in-cluster client, down", s.remote, wantRemote) },
		func() error { return s.setReviewsReady(true) },
		func() error { return s.convergeClient(ctx, s.clientLocal, "in-cluster client failback") },
		func() error { return s.clientBatch(ctx, "in-cluster client, up", s.clientLocal, wantClientLocal) },
	}
}
