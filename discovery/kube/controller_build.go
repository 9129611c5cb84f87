package kube

import "time"

// checkReady latches readiness once every cluster synced or SyncTimeout
// passed.
func (c *Controller) checkReady(now time.Time) {
	if c.ready.Load() {
		return
	}
	var waiting []string
	if c.mgmt != nil && !c.mgmt.synced() {
		waiting = append(waiting, "management")
	} else if !c.secretsReconciled {
		waiting = append(waiting, "cluster Secrets")
	}
	for _, wc := range c.reg.clusters() {
		if !wc.synced.Load() {
			waiting = append(waiting, wc.spec.info.Name)
		}
	}
	switch {
	case len(waiting) == 0:
		c.log.Info("ready: every cluster synced", "after", now.Sub(c.started).Round(time.Millisecond))
	case now.Sub(c.started) >= c.syncTimeout:
		c.log.Warn("ready: sync timeout passed; serving without the clusters not synced yet", "syncTimeout", c.syncTimeout, "notSynced", waiting)
	default:
		return
	}
	c.ready.Store(true)
}

// rebuild gathers every cluster's and the management cluster's objects,
// builds the world (converting again only what changed, see worldCache)
// and publishes it if it changed. It returns when the next
// unreachable cluster turns stale (zero if none).
func (c *Controller) rebuild(now time.Time) (nextStale time.Time) {
	c.checkReady(now)
	clusters := c.reg.clusters()
	infos := make([]ClusterInfo, 0, len(clusters))
	workloads := make(map[string]*WorkloadObjects, len(clusters))
	keep := map[string]bool{}
	for _, wc := range clusters {
		reachable, since := wc.health()
		info := wc.spec.info
		if !reachable {
			staleAt := since.Add(c.staleAfter)
			if !now.Before(staleAt) {
				info.Stale = true
			} else if nextStale.IsZero() || staleAt.Before(nextStale) {
				nextStale = staleAt
			}
		}
		infos = append(infos, info)
		workloads[info.Name] = wc.objects()
		keep[info.Name] = true
		c.metrics.setCluster(info.Name, wc.synced.Load(), reachable, info.Stale)
	}
	c.metrics.forgetOthers(keep)
	if c.mgmt != nil {
		c.metrics.managementSynced.Set(boolGauge(c.mgmt.synced()))
	}
	if !c.ready.Load() {
		return nextStale
	}

	cfg := &ConfigObjects{}
	var problems []error
	if c.mgmt != nil {
		cfg, problems = c.mgmt.objects()
	}
	world, errs, changed := c.worlds.build(infos, workloads, cfg)
	world.ControllerName = c.opts.ControllerName
	world.Provisioning = c.opts.Provisioning
	problems = append(problems, errs...)
	c.reportProblems(problems)
	if c.published && !changed {
		return nextStale
	}
	c.opts.Store.Publish(c.worlds.snapshot(world))
	c.published = true
	c.metrics.builds.Inc()
	stale := 0
	for _, i := range infos {
		if i.Stale {
			stale++
		}
	}
	c.log.Debug("world published", "clusters", len(infos), "staleClusters", stale, "services", len(world.Services),
		"virtualDestinations", len(world.VirtualDestinations), "gateways", len(world.Gateways), "httpRoutes", len(world.HTTPRoutes))
	return nextStale
}

// reportProblems logs each problem once while it persists: the same bad
// object must not fill the log at every rebuild.
func (c *Controller) reportProblems(problems []error) {
	c.metrics.buildProblems.Set(float64(len(problems)))
	now := make(map[string]bool, len(problems))
	for _, p := range problems {
		msg := p.Error()
		now[msg] = true
		if !c.lastProblems[msg] {
			c.log.Error("Kubernetes object not applied", "error", msg)
		}
	}
	for msg := range c.lastProblems {
		if !now[msg] {
			c.log.Info("Kubernetes object problem resolved", "was", msg)
		}
	}
	c.lastProblems = now
}
