package e2ekube

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/model"
)

// envoySpec is one Envoy of the walk-through.
type envoySpec struct {
	name     string
	role     model.Role
	cluster  string
	locality model.Locality
	bind     string // listeners and upstream connections
	gateway  string // the Gateway a gateway proxy serves
}

func (e envoySpec) admin() string { return e.bind + ":19000" }

var (
	gatewayEnvoy  = envoySpec{"gateway-cluster-1", model.RoleGateway, "cluster-1", gateway1Locality, "127.0.21.1", gatewayNamespace + "/http"}
	eastWestEnvoy = envoySpec{"eastwest-cluster-2", model.RoleEastWest, "cluster-2", gateway2Locality, "127.0.22.100", ""}
)

// backendSpec is one reviews instance of the walk-through.
type backendSpec struct {
	cluster, instance, version, address string
}

var walkThroughBackends = []backendSpec{
	{"cluster-1", "reviews-v1-0", "v1", v1Address},
	{"cluster-1", "reviews-v2-0", "v2", v2Address},
	{"cluster-2", "reviews-v3-0", "v3", v3Address},
}

// testWalkThrough is step 5 of the seed walk-through for real: requests
// through cluster-1's gateway Envoy to the HTTPRoute whose backendRef is the
// VirtualDestination's host reach reviews v1, v2 (cluster-1, directly) and
// v3 (cluster-2, through its east-west Envoy), with trafficDistribution
// unset as in the walk-through.
func (s *suite) testWalkThrough(t *testing.T) {
	envoys := s.startDataPlane(t)

	// Bounded: at least 30 requests, then until every version answered, at
	// most 60. With locality weights 2:1 between the clusters, a version is
	// missing from 60 answers with probability below 1e-10.
	const minRequests, maxRequests = 30, 60
	seen := map[string]int{}
	n := 0
	for n < minRequests || (n < maxRequests && len(seen) < len(walkThroughBackends)) {
		n++
		r, err := getReviews()
		if err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		if err := expectedPath(r); err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		seen[r.Version]++
	}
	t.Logf("%d requests through the gateway: versions %v", n, seen)
	for _, b := range walkThroughBackends {
		if seen[b.version] == 0 {
			t.Errorf("reviews %s (%s, %s) never answered in %d requests", b.version, b.cluster, b.address, n)
		}
	}
	e2eutil.CheckNoRejectedUpdates(t, envoys)
}

// startDataPlane runs the walk-through's data plane for t: the backends in
// their namespaces, cluster-1's gateway Envoy and cluster-2's east-west
// Envoy, with trafficDistribution unset as in the walk-through; it returns
// once reviews v3 answered through the east-west gateway.
func (s *suite) startDataPlane(t *testing.T) map[string]*envoyrun.Envoy {
	t.Helper()
	envoyBin := e2eutil.RequireEnvoy(t)
	// The fixed addresses, ports and namespaces: queue behind other
	// end-to-end runs (internal/e2e holds the lock for its whole run).
	e2eutil.LockT(t, 4*time.Minute)
	hosts := startHosts(t) // skips (or fails) when namespaces cannot be made
	for _, b := range walkThroughBackends {
		hosts[b.cluster].startBackend(t, b)
	}

	s.mgmt.apply(t, render(configTemplate, config{PreferClose: false}))
	s.gw1.await(t, convergeWithin, "trafficDistribution unset", equals(concat(
		group(0, c1Locality, local(v1Address), local(v2Address)),
		group(0, c2Locality, viaEastWest(cluster2EastWest, 1)))...))

	dir := t.TempDir()
	envoys := map[string]*envoyrun.Envoy{}
	t.Cleanup(func() {
		e2eutil.DumpEnvoys(t, envoys)
		for _, e := range envoys {
			if err := e.Stop(); err != nil {
				t.Error(err)
			}
		}
	})
	for _, spec := range []envoySpec{gatewayEnvoy, eastWestEnvoy} {
		e, err := envoyrun.Start(envoyrun.Options{
			Binary: envoyBin, Bootstrap: s.bootstrap(t, spec, dir), AdminAddress: spec.admin(), Dir: dir, Name: spec.name,
		})
		if err != nil {
			t.Fatal(err)
		}
		envoys[spec.name] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, e := range envoys {
		if err := e.WaitReady(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	// The first answer from v3 shows the whole path works; until then the
	// Envoys may still be taking their endpoints and certificates.
	first := time.Now()
	if err := e2eutil.Eventually(20*time.Second, 100*time.Millisecond, func() error {
		r, err := getReviews()
		if err != nil {
			return err
		}
		if r.Version != "v3" {
			return fmt.Errorf("answered by %s", r.Instance)
		}
		return nil
	}); err != nil {
		t.Fatalf("no answer from reviews v3 (cluster-2) through the gateway within 20s: %v", err)
	}
	t.Logf("first answer from v3 through the east-west gateway %v after both Envoys were ready", time.Since(first).Round(time.Millisecond))
	return envoys
}

// expectedPath checks who connected to the backend that answered: the
// gateway itself in cluster-1, the east-west gateway in cluster-2 (both
// bind their upstream connections to their own address), so the peer
// shows the path a request took.
func expectedPath(r backend.Response) error {
	wantPeer := map[string]string{"v1": gatewayEnvoy.bind, "v2": gatewayEnvoy.bind, "v3": eastWestEnvoy.bind}
	peer, _, _ := net.SplitHostPort(r.Peer)
	if want, ok := wantPeer[r.Version]; !ok || peer != want {
		return fmt.Errorf("answered by %+v: want v1 or v2 reached from %s, or v3 from %s", r, gatewayEnvoy.bind, eastWestEnvoy.bind)
	}
	return nil
}

var reviewsClient = &http.Client{Timeout: 3 * time.Second}

// getReviews sends GET /reviews to the gateway, as the walk-through's
// curl does, and decodes the backend's answer; anything else is an error.
func getReviews() (backend.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+gatewayEnvoy.bind+":8080/reviews/0", nil)
	if err != nil {
		return backend.Response{}, err
	}
	req.Host = "www.example.com"
	return e2eutil.GetBackend(reviewsClient, req)
}

// bootstrap runs `causeway certs issue` and `causeway bootstrap`, as a user
// would, for spec: Envoy reaches serve over TLS with its client certificate.
func (s *suite) bootstrap(t *testing.T, spec envoySpec, dir string) []byte {
	t.Helper()
	creds := e2eutil.IssueProxyCert(t, causewayBin, s.cp.caDir, string(spec.role), spec.cluster, filepath.Join(dir, "xds-certs", spec.name))
	if spec.gateway != "" {
		creds = append(creds, "--gateway", spec.gateway)
	}
	cmd := exec.Command(causewayBin, append([]string{"bootstrap",
		"--role", string(spec.role), "--cluster", spec.cluster,
		"--region", spec.locality.Region, "--zone", spec.locality.Zone,
		"--bind-address", spec.bind,
		"--xds-address", s.cp.xdsAddr,
		"--admin-address", spec.admin(),
		"--node-id", spec.name}, creds...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("causeway bootstrap for %s: %v\n%s", spec.name, err, stderr)
	}
	return out
}
