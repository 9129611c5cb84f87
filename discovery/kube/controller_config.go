package kube

import "time"

// loadFileClusters reads the clusters file (none when path is empty) into
// cluster specs and its stale-after and sync-timeout settings (0 when unset).
func loadFileClusters(path string) (specs []clusterSpec, staleAfter, syncTimeout time.Duration, err error) {
	if path == "" {
		return nil, 0, 0, nil
	}
	cfg, err := LoadClusterConfig(path)
	if err != nil {
		return nil, 0, 0, err
	}
	for _, e := range cfg.Clusters {
		spec, err := specFromFile(path, e.Info(), e.Kubeconfig)
		if err != nil {
			return nil, 0, 0, err
		}
		specs = append(specs, spec)
	}
	return specs, cfg.StaleAfter, cfg.SyncTimeout, nil
}
