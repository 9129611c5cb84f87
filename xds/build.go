package xds

import (
	"time"
	"weak"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// leaf is a class's cached workload certificate.
type leaf struct {
	certPEM, keyPEM []byte
	notAfter        time.Time
}

// credentialsLocked returns the certificate for p's SPIFFE ID, issuing a
// new one when there is none or less than half of certTTL remains.
func (s *Server) credentialsLocked(p model.Proxy, now time.Time) (translator.Credentials, *leaf, error) {
	id := s.ca.SpiffeID(string(p.Role), p.Cluster)
	l := s.certs[id]
	if l == nil || s.dueLocked(l, now) {
		cert, key, notAfter, err := s.ca.Issue(id, s.certTTL)
		if err != nil {
			return translator.Credentials{}, nil, err
		}
		l = &leaf{certPEM: cert, keyPEM: key, notAfter: notAfter}
		s.certs[id] = l
		s.log.Info("issued workload certificate", "spiffe_id", id, "not_after", notAfter)
	}
	return translator.Credentials{
		CertChainPEM:  l.certPEM,
		PrivateKeyPEM: l.keyPEM,
		RootCAPEM:     s.ca.RootsPEM(), // root + trust bundle, for root rotation
		SpiffeID:      id,
		TrustDomain:   s.ca.TrustDomain(),
	}, l, nil
}

func (s *Server) dueLocked(l *leaf, now time.Time) bool {
	return l.notAfter.Sub(now) < s.certTTL/2
}

// forgetCertLocked drops c's certificate unless another active class of
// the same role and cluster still uses it.
func (s *Server) forgetCertLocked(c *class) {
	if c.invalid {
		return
	}
	for _, other := range s.classes {
		if !other.invalid && other.proxy.Role == c.proxy.Role && other.proxy.Cluster == c.proxy.Cluster {
			return
		}
	}
	delete(s.certs, s.ca.SpiffeID(string(c.proxy.Role), c.proxy.Cluster))
}

// rebuildAll rebuilds every active class against the current world.
func (s *Server) rebuildAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	world := s.store.Load()
	// Classes built from the same world share one diff.
	diffs := map[*model.Snapshot]worldDiff{}
	for _, c := range s.classes {
		if c.invalid {
			continue
		}
		d, seen := diffs[c.world]
		if !seen && c.world != nil {
			if s.endpointsOnly != nil {
				d.endpoints, d.endpointsOnly = s.endpointsOnly(c.world, world)
			}
			if !d.endpointsOnly && s.routesOnly != nil {
				d.routes, d.routesOnly = s.routesOnly(c.world, world)
			}
			diffs[c.world] = d
		}
		s.updateLocked(c, world, d)
	}
}

// worldDiff is how a new world differs from the one a class was built
// from: only in the endpoints of some Services, or only in some HTTPRoutes
// (namespace/name), as far as the fast paths' checks tell.
type worldDiff struct {
	endpoints     map[model.ServiceKey]bool
	endpointsOnly bool
	routes        map[string]bool
	routesOnly    bool
}

// renewDue rebuilds the classes whose certificate is due for renewal, or
// was already renewed by the build of another class with the same identity.
func (s *Server) renewDue(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	world := s.store.Load()
	for _, c := range s.classes {
		if c.invalid {
			continue
		}
		if l := s.certs[s.ca.SpiffeID(string(c.proxy.Role), c.proxy.Cluster)]; l == nil || l != c.leaf || s.dueLocked(l, now) {
			s.buildLocked(c, world)
		}
	}
}

// buildLocked translates, validates and publishes c's snapshot. Failures
// keep the last good snapshot in the cache.
func (s *Server) buildLocked(c *class, world *model.Snapshot) {
	creds, l, err := s.credentialsLocked(c.proxy, time.Now())
	if err != nil {
		s.log.Error("cannot issue certificate; class keeps its last snapshot", "class", clip(c.key), "error", err)
		return
	}
	start := time.Now()
	// Every resource is validated as it is encoded and its message dropped
	// then; load assignments already while the translator builds the rest
	// (most of a large class), so the class's translated messages are
	// never all alive at once.
	stream := newCLAStream(newChecker(s.publishedLocked(c)))
	res := s.translate(world, c.proxy, creds, stream.add)
	s.metrics.translation.WithLabelValues("full").Observe(time.Since(start).Seconds())
	s.reportDiagnosticsLocked(c, world, res.Diagnostics)

	start = time.Now()
	snap, err := buildSnapshot(res, stream)
	if err == nil && snap.version == c.version {
		c.leaf, c.world = l, world // same resources, so the same certificate
		return                     // publishing would change nothing
	}
	if err != nil {
		version := ""
		if snap != nil {
			version = snap.version
		}
		if version == "" || version != c.rejected {
			c.rejected = version
			s.metrics.rejected.Inc()
			s.log.Error("snapshot failed validation and was not published; proxies keep the last good one",
				"class", clip(c.key), "version", version, "last_good", c.version, "error", err)
		}
		return
	}
	if !s.publishLocked(c, snap, start) {
		return
	}
	c.rejected, c.leaf, c.world = "", l, world
}

// publishedLocked returns the snapshots published, hence validated: c's
// first (the likeliest to share a resource), then the other classes'.
func (s *Server) publishedLocked(c *class) []*classSnapshot {
	out := make([]*classSnapshot, 0, len(s.classes))
	out = append(out, c.snap)
	for _, o := range s.classes {
		if o != c && o.snap != nil {
			out = append(out, o.snap)
		}
	}
	return out
}

// publishLocked hands snap to the cache as c's snapshot, recording the
// publish time of each changed type version (for convergence) and the push
// time since start. It reports whether the cache took it.
func (s *Server) publishLocked(c *class, snap *classSnapshot, start time.Time) bool {
	prev := c.snap
	snap.following(prev)
	// Record the publication before streams can see it: a proxy may ACK
	// before SetSnapshot returns.
	now := time.Now()
	for _, typ := range snapshotTypes {
		if v := snap.GetVersion(typ); v != prev.GetVersion(typ) {
			s.conv.published(c.key, typ, v, now)
		}
	}
	s.cache.SetSnapshot(c.key, snap)
	s.metrics.push.Observe(time.Since(start).Seconds())
	s.metrics.snapshotBytes.WithLabelValues(c.key).Set(float64(snap.Bytes()))
	c.version, c.snap = snap.version, snap
	s.metrics.published.Inc()
	s.log.Debug("published snapshot", "class", clip(c.key), "version", snap.version)
	return true
}

// updateLocked brings c up to date with world: through the endpoint fast
// path when world differs from c's last built world only in endpoints,
// through the route fast path when only in HTTPRoutes, else by a full
// rebuild.
func (s *Server) updateLocked(c *class, world *model.Snapshot, d worldDiff) {
	if c.snap != nil && c.world != nil && c.rejected == "" {
		switch {
		case d.endpointsOnly && s.loadAssignments != nil:
			if s.fastPathLocked(c, world, d.endpoints) {
				return
			}
		case d.routesOnly && s.routeUpdates != nil:
			if s.routePathLocked(c, world, d.routes) {
				return
			}
		}
	}
	s.buildLocked(c, world)
}

// routePathLocked rebuilds only the route configurations, virtual hosts
// and clusters the changed HTTPRoutes affect and publishes a snapshot that
// shares every other resource (and its version) with the last one. It
// reports false when a full rebuild is needed instead.
func (s *Server) routePathLocked(c *class, world *model.Snapshot, changed map[string]bool) bool {
	start := time.Now()
	u, ok := s.routeUpdates(c.world, world, c.proxy, changed)
	s.metrics.translation.WithLabelValues("routes").Observe(time.Since(start).Seconds())
	if !ok {
		return false
	}
	start = time.Now()
	snap, n, err := c.snap.withRoutes(u)
	if err != nil {
		s.log.Debug("route fast path not applicable; rebuilding the class", "class", clip(c.key), "error", err)
		return false
	}
	if n > 0 && !s.publishLocked(c, snap, start) {
		return true // the cache refused it; a full rebuild would fare no better
	}
	c.world = world
	return true
}

// fastPathLocked recomputes only the load assignments of the changed
// Services and publishes a snapshot that shares every other resource (and
// its version) with the last one. It reports false when a full rebuild is
// needed instead.
func (s *Server) fastPathLocked(c *class, world *model.Snapshot, changed map[model.ServiceKey]bool) bool {
	start := time.Now()
	clas := s.loadAssignments(world, c.proxy, changed)
	s.metrics.translation.WithLabelValues("endpoints").Observe(time.Since(start).Seconds())
	start = time.Now()
	snap, n, err := c.snap.withEndpoints(clas)
	if err != nil {
		s.log.Debug("endpoint fast path not applicable; rebuilding the class", "class", clip(c.key), "error", err)
		return false
	}
	if n == 0 {
		c.world = world
		return true
	}
	if !s.publishLocked(c, snap, start) {
		return true // the cache refused it; a full rebuild would fare no better
	}
	c.world = world
	return true
}

// reportDiagnosticsLocked logs each distinct diagnostic once per world
// version, however many classes hit it, and exports the class's count.
func (s *Server) reportDiagnosticsLocked(c *class, world *model.Snapshot, diags []translator.Diagnostic) {
	s.metrics.diagnostics.WithLabelValues(c.key).Set(float64(len(diags)))
	if s.diagWorld.Value() != world {
		s.diagWorld, s.diagSeen = weak.Make(world), map[string]bool{}
	}
	for _, d := range diags {
		if k := d.String(); !s.diagSeen[k] {
			s.diagSeen[k] = true
			s.log.Warn("configuration problem", "object", d.Object, "field", d.Field, "message", d.Message)
		}
	}
}
