package translator

import (
	"fmt"
	"sort"

	"github.com/causeway-dev/causeway/model"
)

// hostPortClaims decides, once per snapshot, which object owns each
// host:port, so that gateway proxies, east-west proxies, backendRef
// resolution and status all agree on the winner and no two destinations
// produce clusters or SNI filter chains with the same name.
//
// Claimants are VirtualDestinations and ExternalServices (per host and
// port) and federated hostnames. Two claims of one host:port conflict when
// they are in the same workspace or in connected ones (one sees the other):
// a route there could not tell them apart. Federated hostnames win (their
// names belong to the workspace's federation); otherwise the older object
// wins (model.Age), ties broken by namespace/name, kind, then port and host
// position. Claims in unconnected workspaces both stand, with distinct
// names (DestinationKey carries the workspace).
type hostPortClaims struct {
	ws *workspaces
	// objectWS is the workspace of each VirtualDestination and ExternalService.
	objectWS map[any]string
	// lost maps a losing claim to the claim that beat it.
	lost map[claimKey]*claim
	// winners holds the standing claims of each host:port, in claim order.
	winners map[hostPortKey][]*claim
	// outbound holds the cluster name of every standing VirtualDestination
	// and ExternalService claim: the clusters every gateway proxy gets.
	outbound map[string]bool
	// federated are the federated hostnames that stand, in claim order.
	federated []*federatedHost
	// selected holds, for each VirtualDestination in a workspace, the
	// Services it selects and may use: every consumer of the claims
	// (translation, status, the endpoint fast path) asks for all of them,
	// some more than once.
	selected map[*model.VirtualDestination][]*model.Service
}

// claimKey is one (object, port index, host index) claim; obj is a
// *model.VirtualDestination or *model.ExternalService. A federated
// hostname is keyed by its *federatedHost with both indexes 0.
type claimKey struct {
	obj        any
	port, host int
}

type hostPortKey struct {
	host string
	port uint32
}

// claim is one object's claim of one host:port.
type claim struct {
	key       claimKey
	object    string // "Kind namespace/name", as diagnostics name objects
	namespace string
	name      string
	workspace string
	age       model.Age
	// noSeq: age.Seq means nothing (an ExternalService carries only its
	// creationTimestamp), so only timestamps are compared.
	noSeq     bool
	federated *federatedHost
	host      string
	port      uint32
}

// destination is the key of the destination a standing claim serves.
func (c *claim) destination() DestinationKey {
	return DestinationKey{Workspace: c.workspace, Host: c.host, Port: c.port}
}

// precedes orders claims: federated hostnames first, then older objects
// (model.Age.OlderThan), then namespace/name, object description, port and
// host position. It is a strict total order, so the outcome does not depend
// on the input order.
func (c *claim) precedes(o *claim) bool {
	if (c.federated != nil) != (o.federated != nil) {
		return c.federated != nil
	}
	if c.noSeq == o.noSeq {
		if c.age.OlderThan(o.age) {
			return true
		}
		if o.age.OlderThan(c.age) {
			return false
		}
	} else {
		// Only timestamps compare; at equal (or no) timestamps the object
		// with a document position goes first. This keeps the order total.
		ct, ot := model.Age{CreationTimestamp: c.age.CreationTimestamp}, model.Age{CreationTimestamp: o.age.CreationTimestamp}
		if ct.OlderThan(ot) || ot.OlderThan(ct) {
			return ct.OlderThan(ot)
		}
		return !c.noSeq
	}
	if a, b := c.namespace+"/"+c.name, o.namespace+"/"+o.name; a != b {
		return a < b
	}
	if c.object != o.object {
		return c.object < o.object
	}
	if c.key.port != o.key.port {
		return c.key.port < o.key.port
	}
	return c.key.host < o.key.host
}

// externalServiceAge is an ExternalService's age: its creationTimestamp
// only. It has no document position, so against a VirtualDestination with
// the same (or no) timestamp the VirtualDestination counts as older; world
// files that mean another order say so with metadata.creationTimestamp.
func externalServiceAge(es *model.ExternalService) model.Age {
	return model.Age{CreationTimestamp: es.CreationTimestamp.Time}
}

func claimHostPorts(w *model.Snapshot) *hostPortClaims {
	c := &hostPortClaims{
		ws:       newWorkspaces(w),
		objectWS: map[any]string{},
		lost:     map[claimKey]*claim{},
		winners:  map[hostPortKey][]*claim{},
		outbound: map[string]bool{},
		selected: map[*model.VirtualDestination][]*model.Service{},
	}
	var claims []*claim
	for _, fh := range federatedHosts(w, c.ws) {
		claims = append(claims, &claim{
			key: claimKey{obj: fh}, object: fh.object(), namespace: fh.svc.Namespace, name: fh.svc.Name,
			workspace: fh.key.Workspace, federated: fh, host: fh.key.Host, port: fh.key.Port,
		})
	}
	vds := w.VirtualDestinations()
	for i := range vds {
		vd := &vds[i]
		ws, ok := c.ws.ofObject(vd.Namespace)
		if !ok {
			continue // ignored; Translate and Statuses report it
		}
		c.objectWS[vd] = ws
		c.selected[vd] = c.ws.selectedServices(w, vd, ws)
		for pi, vp := range vd.Ports {
			for hi, host := range vd.Hosts {
				claims = append(claims, &claim{
					key: claimKey{vd, pi, hi}, object: vdObject(vd), namespace: vd.Namespace, name: vd.Name,
					workspace: ws, age: vd.Age, host: host, port: vp.Number,
				})
			}
		}
	}
	for _, es := range w.ExternalServices() {
		ws, ok := c.ws.ofObject(es.Namespace)
		if !ok {
			continue
		}
		c.objectWS[es] = ws
		for pi, p := range es.Spec.Ports {
			if p.Number < 1 || p.Number > 65535 {
				continue // not a port; the ExternalService's own checks report it
			}
			for hi, host := range es.Spec.Hosts {
				claims = append(claims, &claim{
					key: claimKey{es, pi, hi}, object: "ExternalService " + es.Namespace + "/" + es.Name,
					namespace: es.Namespace, name: es.Name, workspace: ws, age: externalServiceAge(es), noSeq: true, host: host, port: uint32(p.Number),
				})
			}
		}
	}
	sort.SliceStable(claims, func(i, j int) bool { return claims[i].precedes(claims[j]) })
	for _, cl := range claims {
		hp := hostPortKey{cl.host, cl.port}
		if winner := c.conflicting(hp, cl.workspace); winner != nil {
			c.lost[cl.key] = winner
			continue
		}
		c.winners[hp] = append(c.winners[hp], cl)
		if cl.federated != nil {
			c.federated = append(c.federated, cl.federated)
		} else {
			c.outbound[cl.destination().ClusterName()] = true
		}
	}
	return c
}

// conflicting returns the standing claim of hp that a new claim from
// workspace ws would clash with, or nil.
func (c *hostPortClaims) conflicting(hp hostPortKey, ws string) *claim {
	for _, w := range c.winners[hp] {
		if c.ws.connected(w.workspace, ws) {
			return w
		}
	}
	return nil
}

// workspaceOf is the workspace of a VirtualDestination or ExternalService
// of the snapshot (false: it is in none and is ignored).
func (c *hostPortClaims) workspaceOf(obj any) (string, bool) {
	ws, ok := c.objectWS[obj]
	return ws, ok
}

// destination is the key of vd's destination for its port portIndex and
// host hostIndex (meaningful when vd owns that host:port).
func (c *hostPortClaims) destination(vd *model.VirtualDestination, portIndex, hostIndex int) DestinationKey {
	return DestinationKey{Workspace: c.objectWS[vd], Host: vd.Hosts[hostIndex], Port: vd.Ports[portIndex].Number}
}

// owns reports whether vd owns its host hostIndex on port portIndex; the
// loser gets a Diagnostic on r.
func (c *hostPortClaims) owns(r *Resources, vd *model.VirtualDestination, portIndex, hostIndex int) bool {
	return c.ownsKey(r, vdObject(vd), claimKey{vd, portIndex, hostIndex}, vd.Hosts[hostIndex])
}

// ownsExternal is owns for host hostIndex, port portIndex of an ExternalService.
func (c *hostPortClaims) ownsExternal(r *Resources, es *model.ExternalService, portIndex, hostIndex int) bool {
	return c.ownsKey(r, "ExternalService "+es.Namespace+"/"+es.Name, claimKey{es, portIndex, hostIndex}, es.Spec.Hosts[hostIndex])
}

func (c *hostPortClaims) ownsKey(r *Resources, object string, k claimKey, host string) bool {
	if _, in := c.objectWS[k.obj]; !in {
		return false
	}
	winner, lost := c.lost[k]
	if lost {
		r.report(object, fmt.Sprintf("spec.hosts[%d]", k.host), "%s", c.lostMessage(host, winner))
	}
	return !lost
}

// lostMessage names the winner of a lost claim and the host:port. Without
// workspaces it reads as it always has.
func (c *hostPortClaims) lostMessage(host string, winner *claim) string {
	where := ""
	if c.ws.enabled() {
		where = " in workspace " + winner.workspace
	}
	return fmt.Sprintf("%s port %d is already defined by %s%s; ignored here", host, winner.port, winner.object, where)
}

// resolveHost finds the destination serving host:port for a route in
// workspace viewer: the first standing claim (the oldest) in a workspace
// viewer sees. Several can stand only in workspaces not connected to each
// other (viewer's own claim never stands beside one it sees: they would be
// connected). ok is false when there is none; hidden then lists the
// workspaces whose claims viewer does not see.
func (c *hostPortClaims) resolveHost(viewer, host string, port uint32) (dest DestinationKey, ok bool, hidden []string) {
	for _, w := range c.winners[hostPortKey{host, port}] {
		if c.ws.sees(viewer, w.workspace) {
			return w.destination(), true, nil
		}
		hidden = append(hidden, w.workspace)
	}
	return DestinationKey{}, false, hidden
}

// selectedServices returns the Services vd selects that its workspace
// sees (all it selects when there are no workspaces). Callers must not
// modify the slice: it is shared.
func (c *hostPortClaims) selectedServices(w *model.Snapshot, vd *model.VirtualDestination) []*model.Service {
	if services, ok := c.selected[vd]; ok {
		return services
	}
	return c.ws.selectedServices(w, vd, c.objectWS[vd])
}
