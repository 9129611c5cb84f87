package main

import (
	"fmt"
	"strings"
)

// clustersRows are the many-clusters run's figures (--clusters-scale).
func clustersRows(c *clustersResult) []row {
	const target = "reported"
	if c == nil {
		return []row{{"many workload clusters (kube-apiservers on one etcd)", "sync time and memory per cluster reported; EndpointSlice change → clients p99 ≤ 250 ms beyond debounce", "not measured (--clusters-scale)"}}
	}
	shape := fmt.Sprintf("%d workload clusters × %d Services × %d endpoints", c.Clusters, c.ServicesPerCluster, c.EndpointsPerService)
	var rows []row
	if k := c.Costs; k != nil {
		var steps []string
		prev := 0
		for _, s := range c.Steps {
			steps = append(steps, fmt.Sprintf("%d→%d %.1f s", prev, s.Clusters, s.SyncSec))
			prev = s.Clusters
		}
		rows = append(rows, row{shape + ": initial sync (kube-apiservers on one etcd, cluster Secrets added in steps)", target,
			fmt.Sprintf("per cluster %s; steps %s; serve CPU %.2f s per cluster; idle after sync %.1f%% CPU",
				k.SyncSec.format(1, "s", 2), join(steps), k.SyncCPUPerClusterSec, k.IdleCPUPct)})
		var rss, heap []string
		rss, heap = append(rss, fmt.Sprintf("%.0f", c.ServeBaseRSSMiB)), append(heap, fmt.Sprintf("%.0f", c.ServeBaseHeapMiB))
		counts := []string{"0"}
		for _, s := range c.Steps {
			counts = append(counts, fmt.Sprint(s.Clusters))
			rss, heap = append(rss, fmt.Sprintf("%.0f", s.RSSMiB)), append(heap, fmt.Sprintf("%.0f", s.HeapMiB))
		}
		rows = append(rows, row{shape + ": serve memory per cluster", target,
			fmt.Sprintf("RSS at %s clusters: %s MiB → %.1f MiB per cluster; live heap %s MiB → %.1f MiB per cluster, %.1f KiB per Service (with its %d endpoints), ≤ %.0f B per endpoint; with %d clients %.0f MiB RSS",
				strings.Join(counts, "/"), strings.Join(rss, "/"), k.RSSPerClusterMiB, strings.Join(heap, "/"), k.HeapPerClusterMiB,
				k.HeapPerServiceKiB, c.EndpointsPerService, k.HeapPerEndpointB, c.Clients, c.RSSWithClientsMiB)})
		if w := c.Widen; w != nil {
			m := fmt.Sprintf("live heap %.1f → %.1f → %.1f MiB when %d endpoints were added to the Services of %d clusters and removed again: %.0f B per endpoint; a Service without its endpoints %.1f KiB",
				w.HeapBeforeMiB, w.HeapAfterMiB, w.HeapRestoredMiB, w.EndpointsAdded, w.Clusters, w.PerEndpointB, w.PerServiceKiB)
			if w.Error != "" {
				m = "not measured: " + w.Error
			}
			rows = append(rows, row{shape + ": serve memory per endpoint and per Service", target, m})
		}
		rows = append(rows, row{shape + ": API-server traffic to serve", target,
			fmt.Sprintf("initial sync %s per cluster (%.0f B per Service); per EndpointSlice change %s of watch events",
				k.InitialBytes.format(1<<20, "MiB", 2), k.BytesPerService, c.WatchBytesPerChange.format(1, "B", 0))})
	}
	conv := "not measured"
	if c.Convergence.N > 0 {
		conv = fmt.Sprintf("beyond debounce: p99 %.1f ms (p99 − %v quiet); %s over %d changes in clusters %s (sotw p99 %.1f, delta p99 %.1f; per-change p99 median %.1f ms; debounce %s)",
			c.BeyondDebounceP99, kubeDebounceQuiet, percentiles(c.Convergence), len(c.PerChangeP99), strings.Join(c.ChangedClusters, ","),
			c.Sotw.P99, c.Delta.P99, spreadOf(c.PerChangeP99).Median, c.Debounce)
	}
	if c.Error != "" {
		conv += "; error: " + c.Error
	}
	rows = append(rows, row{fmt.Sprintf("convergence: EndpointSlice change in a random one of %d clusters → %d ADS clients ACKed", c.Clusters, c.Clients),
		"p99 ≤ 250 ms beyond debounce", conv})
	for _, p := range c.Projections {
		rows = append(rows, row{fmt.Sprintf("projection: %d clusters (%d Services, %d endpoints), one replica", p.Clusters, p.Services, p.Endpoints),
			"linear from the measured costs", p.Arithmetic})
	}
	return rows
}
