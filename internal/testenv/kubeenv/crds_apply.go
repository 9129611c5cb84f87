package kubeenv

import (
	"context"
	"fmt"
)

// ApplyCRDs is InstallCRDs for callers outside tests (the load tool): it
// creates or updates every CRD on the named cluster and waits until each is
// Established.
func (e *Env) ApplyCRDs(ctx context.Context, name string) error {
	c := e.Cluster(name)
	e.crdMu.Lock()
	defer e.crdMu.Unlock()
	if e.crdsReady[name] {
		return nil
	}
	defs, err := AllCRDs()
	if err != nil {
		return err
	}
	if err := applyCRDs(ctx, c, defs); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	e.crdsReady[name] = true
	return nil
}
