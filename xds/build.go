package xds

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

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
	for _, c := range s.classes {
		if !c.invalid {
			s.buildLocked(c, world)
		}
	}
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
		s.log.Error("cannot issue certificate; class keeps its last snapshot", "class", c.key, "error", err)
		return
	}
	res := s.translate(world, c.proxy, creds)
	s.reportDiagnosticsLocked(c, world, res.Diagnostics)

	snap, version, err := newSnapshot(res)
	if err == nil && version == c.version {
		c.leaf = l // same resources, so the same certificate
		return     // publishing would change nothing
	}
	if err == nil {
		err = validateSnapshot(snap)
	}
	if err != nil {
		if version != c.rejected {
			c.rejected = version
			s.metrics.rejected.Inc()
			s.log.Error("snapshot failed validation and was not published; proxies keep the last good one",
				"class", c.key, "version", version, "last_good", c.version, "error", err)
		}
		return
	}
	if err := s.cache.SetSnapshot(context.Background(), c.key, snap); err != nil {
		s.log.Error("cannot publish snapshot", "class", c.key, "error", err)
		return
	}
	c.version, c.rejected, c.leaf = version, "", l
	s.metrics.published.Inc()
	s.log.Debug("published snapshot", "class", c.key, "version", version)
}

// reportDiagnosticsLocked logs each distinct diagnostic once per world
// version, however many classes hit it, and exports the class's count.
func (s *Server) reportDiagnosticsLocked(c *class, world *model.Snapshot, diags []translator.Diagnostic) {
	s.metrics.diagnostics.WithLabelValues(c.key).Set(float64(len(diags)))
	if world != s.diagWorld {
		s.diagWorld, s.diagSeen = world, map[string]bool{}
	}
	for _, d := range diags {
		if k := d.String(); !s.diagSeen[k] {
			s.diagSeen[k] = true
			s.log.Warn("configuration problem", "object", d.Object, "field", d.Field, "message", d.Message)
		}
	}
}

// snapshotTypes are the resource types a class snapshot carries. Each is
// always present, empty or not: a type without a version would leave a
// proxy's first wildcard request (version "") unanswered.
var snapshotTypes = []resource.Type{
	resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType,
}

// newSnapshot builds a cache snapshot whose per-type versions are hashes of
// the marshalled resources: identical output gets identical versions, so a
// rebuild that changes nothing pushes nothing, and a change to endpoints
// does not re-send clusters or listeners. The snapshot version it returns
// hashes the per-type versions.
func newSnapshot(r *translator.Resources) (*cache.Snapshot, string, error) {
	byType := map[resource.Type][]types.Resource{}
	for _, x := range r.Clusters {
		byType[resource.ClusterType] = append(byType[resource.ClusterType], x)
	}
	for _, x := range r.Endpoints {
		byType[resource.EndpointType] = append(byType[resource.EndpointType], x)
	}
	for _, x := range r.Listeners {
		byType[resource.ListenerType] = append(byType[resource.ListenerType], x)
	}
	for _, x := range r.Routes {
		byType[resource.RouteType] = append(byType[resource.RouteType], x)
	}
	for _, x := range r.Secrets {
		byType[resource.SecretType] = append(byType[resource.SecretType], x)
	}
	snap := &cache.Snapshot{}
	all := sha256.New()
	for _, typ := range snapshotTypes {
		items := byType[typ]
		v, err := hashResources(items)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", typ, err)
		}
		snap.Resources[cache.GetResponseType(typ)] = cache.NewResources(v, items)
		fmt.Fprintf(all, "%s=%s\n", typ, v)
	}
	return snap, hex.EncodeToString(all.Sum(nil))[:16], nil
}

// hashResources hashes names and deterministic encodings in input order
// (the translator sorts its output by name).
func hashResources(items []types.Resource) (string, error) {
	h := sha256.New()
	opts := proto.MarshalOptions{Deterministic: true}
	var n [8]byte
	for _, it := range items {
		b, err := opts.Marshal(it)
		if err != nil {
			return "", fmt.Errorf("%s: %w", cache.GetResourceName(it), err)
		}
		name := cache.GetResourceName(it)
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
