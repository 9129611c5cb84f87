package e2eutil

import (
	"context"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// ProxySpec is one Envoy of an end-to-end topology. Gateway is, for a
// gateway proxy, the Gateway it serves, "<namespace>/<name>", or "*" for
// every Gateway of its cluster (`causeway bootstrap --all-gateways`).
type ProxySpec struct {
	Name, Role, Cluster, Region, Zone, BindAddress, Gateway string
}

// gatewayFlags are the `causeway bootstrap` flags naming p's Gateway.
func (p ProxySpec) gatewayFlags() []string {
	switch p.Gateway {
	case "":
		return nil
	case "*":
		return []string{"--all-gateways"}
	}
	return []string{"--gateway", p.Gateway}
}

// AdminAddress is where the proxy's admin API listens: its bind address,
// port 19000.
func (p ProxySpec) AdminAddress() string { return p.BindAddress + ":19000" }

// ProxyBootstrap runs `causeway bootstrap` (binary causewayBin), as a user
// would, for p: one --xds-address flag per entry of xdsAddrs, then extra
// (IssueProxyCert's flags, --xds-protocol...).
func ProxyBootstrap(t testing.TB, causewayBin string, p ProxySpec, xdsAddrs []string, extra ...string) []byte {
	t.Helper()
	args := []string{"bootstrap",
		"--role", p.Role, "--cluster", p.Cluster,
		"--region", p.Region, "--zone", p.Zone,
		"--bind-address", p.BindAddress,
		"--admin-address", p.AdminAddress(),
		"--node-id", p.Name}
	args = append(args, p.gatewayFlags()...)
	for _, a := range xdsAddrs {
		args = append(args, "--xds-address", a)
	}
	out, err := exec.Command(causewayBin, append(args, extra...)...).Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("causeway bootstrap for %s: %v\n%s", p.Name, err, stderr)
	}
	return out
}

// StartEnvoys starts one Envoy per spec with its bootstrap, files in dir,
// and waits at most wait for all of them to be ready. The caller stops
// them (after dumping them on failure, see DumpEnvoys); the Envoys started
// before a failure are in the returned map.
func StartEnvoys(t testing.TB, envoyBin, dir string, specs []ProxySpec, bootstraps [][]byte, wait time.Duration) (map[string]*envoyrun.Envoy, error) {
	t.Helper()
	envoys := map[string]*envoyrun.Envoy{}
	for i, p := range specs {
		e, err := envoyrun.Start(envoyrun.Options{
			Binary:       envoyBin,
			Bootstrap:    bootstraps[i],
			AdminAddress: p.AdminAddress(),
			Dir:          dir,
			Name:         p.Name,
		})
		if err != nil {
			return envoys, err
		}
		envoys[p.Name] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(specs))
	for i, p := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = envoys[p.Name].WaitReady(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return envoys, err
		}
	}
	return envoys, nil
}
