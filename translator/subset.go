package translator

import (
	"regexp"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// kindSubset is the ExtensionRef kind (group model.APIGroup) of the
// backendRef filter that narrows a Hostname or VirtualDestination backendRef
// to one of the VirtualDestination's subsets:
//
//	filters:
//	- type: ExtensionRef
//	  extensionRef: {group: networking.causeway.dev, kind: Subset, name: v1}
const kindSubset = "Subset"

// subsetNamePattern is a DNS label: subset names go into cluster and SNI names.
var subsetNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// subsetsOf returns vd's usable subsets in spec order: every declared
// subset gets clusters (not only those some route names), which keeps the
// output independent of routes. Subsets with an invalid or repeated name
// are left out and, when r is not nil, reported.
func subsetsOf(vd *model.VirtualDestination, r *Resources) []model.Subset {
	var out []model.Subset
	seen := map[string]bool{}
	for i, s := range vd.Subsets {
		field := fieldf("spec.subsets[%d].name", i)
		switch {
		case len(s.Name) > 63 || !subsetNamePattern.MatchString(s.Name):
			if r != nil {
				r.report(vdObject(vd), field, "subset name %q is not a DNS label (lower-case letters, digits and '-', at most 63); subset ignored", s.Name)
			}
		case seen[s.Name]:
			if r != nil {
				r.report(vdObject(vd), field, "subset %q is declared twice; the first one is used", s.Name)
			}
		default:
			seen[s.Name] = true
			out = append(out, s)
		}
	}
	return out
}

// subsetSelects reports whether subset s selects an endpoint with labels l:
// every label must match, looked up as labelSet does (the endpoint's
// cluster under model.SubsetClusterLabel, its locality under the topology
// keys, its own labels, then its Service's or ExternalService's).
func subsetSelects(s *model.Subset, l labelSet) bool {
	if s == nil {
		return true
	}
	for k, v := range s.Labels {
		if got, ok := l.get(k); !ok || got != v {
			return false
		}
	}
	return true
}

func subsetNames(subsets []model.Subset) []string {
	out := make([]string, len(subsets))
	for i, s := range subsets {
		out[i] = s.Name
	}
	return out
}

// subsetFilterOf returns the subset a backendRef's filters name ("" for
// none); more than one Subset filter, or one without a name, is an error.
func subsetFilterOf(filters []gwv1.HTTPRouteFilter) (string, error) {
	name := ""
	for k, f := range filters {
		if !isSubsetFilter(f) {
			continue
		}
		switch {
		case name != "":
			return "", refErrorf(gwv1.RouteReasonBackendNotFound, "filters[%d]: only one Subset filter is allowed per backendRef", k)
		case f.ExtensionRef.Name == "":
			return "", refErrorf(gwv1.RouteReasonBackendNotFound, "filters[%d]: Subset filter without a name", k)
		}
		name = string(f.ExtensionRef.Name)
	}
	return name, nil
}

// resolveRef resolves an HTTPRoute backendRef including its Subset filter:
// the subset's cluster of the VirtualDestination the ref names (directly
// or by one of its hosts). A subset the VirtualDestination does not
// declare is BackendNotFound, so the rule answers 500 rather than sending
// traffic to versions the route excluded.
func (br backendResolver) resolveRef(route *model.HTTPRoute, ref gwv1.HTTPBackendRef) (backendTarget, error) {
	sub, err := subsetFilterOf(ref.Filters)
	if err != nil {
		return backendTarget{}, err
	}
	t, err := br.resolve(route, ref.BackendObjectReference)
	if err != nil || sub == "" {
		return t, err
	}
	if t.service != nil || t.dest.Host == "" {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound,
			"Subset %q: a Subset filter applies only to Hostname and VirtualDestination backendRefs", sub)
	}
	vd, what := br.claims.vdServing(t.dest)
	if vd == nil {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound,
			"Subset %q: %s port %d is served by %s, which has no subsets", sub, t.dest.Host, t.dest.Port, what)
	}
	if !slices.ContainsFunc(subsetsOf(vd, nil), func(s model.Subset) bool { return s.Name == sub }) {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound,
			"%s has no subset %q (declared: %v)", vdObject(vd), sub, subsetNames(subsetsOf(vd, nil)))
	}
	t.dest.Subset = sub
	t.cluster = t.dest.ClusterName()
	return t, nil
}

// vdServing returns the VirtualDestination whose standing claim serves
// dest (ignoring its subset), or nil and a description of what serves it
// instead (an ExternalService or a federated hostname).
func (c *hostPortClaims) vdServing(dest DestinationKey) (*model.VirtualDestination, string) {
	for _, cl := range c.winners[hostPortKey{dest.Host, dest.Port}] {
		if cl.workspace != dest.Workspace {
			continue
		}
		if vd, ok := cl.key.obj.(*model.VirtualDestination); ok {
			return vd, ""
		}
		return nil, cl.object
	}
	return nil, "nothing"
}

// resolveHTTPBackend is resolveBackend for an HTTPRoute backendRef, which
// may carry a Subset filter (subset clusters are VirtualDestination
// clusters, never Service clusters, so nothing needs building).
func (b *gatewayBuilder) resolveHTTPBackend(route *model.HTTPRoute, ref gwv1.HTTPBackendRef) (string, error) {
	if sub, err := subsetFilterOf(ref.Filters); err == nil && sub == "" {
		return b.resolveBackend(route, ref.BackendObjectReference)
	}
	t, err := b.resolver.resolveRef(route, ref)
	return t.cluster, err
}
