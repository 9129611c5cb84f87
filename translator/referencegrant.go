package translator

import (
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// referenceAllowed reports whether an object of kind fromKind (of the
// Gateway API group: an HTTPRoute's backendRef, a Gateway's certificateRef)
// in namespace fromNS may refer to the object group/kind toNS/toName.
// References inside a namespace are always allowed; across namespaces the
// target namespace must hold a ReferenceGrant allowing fromKind from fromNS
// to that kind (and name, if the grant names one), as the Gateway API
// requires: otherwise anyone able to create a route or Gateway could use
// any namespace's backends or certificates.
func referenceAllowed(w *model.Snapshot, fromKind, fromNS, toGroup, toKind, toNS, toName string) bool {
	if fromNS == toNS {
		return true
	}
	for _, g := range grantsIn(w, toNS) {
		if !grantsFrom(g, fromKind, fromNS) {
			continue
		}
		for _, to := range g.Spec.To {
			if coreGroup(string(to.Group)) == coreGroup(toGroup) && string(to.Kind) == toKind &&
				(to.Name == nil || *to.Name == "" || string(*to.Name) == toName) {
				return true
			}
		}
	}
	return false
}

// grantsIn returns the ReferenceGrants of namespace ns. The snapshot
// sorts them by "namespace/name", so those of one namespace are one run,
// found by binary search: a world with a grant in every namespace of its
// routes then costs a lookup per backendRef, not a pass over every grant.
func grantsIn(w *model.Snapshot, ns string) []*model.ReferenceGrant {
	grants, prefix := w.ReferenceGrants(), ns+"/"
	start, _ := slices.BinarySearchFunc(grants, prefix, func(g *model.ReferenceGrant, p string) int {
		return strings.Compare(g.Namespace+"/"+g.Name, p)
	})
	end := start
	for end < len(grants) && grants[end].Namespace == ns {
		end++
	}
	return grants[start:end]
}

func grantsFrom(g *model.ReferenceGrant, kind, ns string) bool {
	for _, from := range g.Spec.From {
		if string(from.Group) == gwv1.GroupName && string(from.Kind) == kind && string(from.Namespace) == ns {
			return true
		}
	}
	return false
}

// coreGroup folds the spellings of the core API group ("" and "core") into one.
func coreGroup(g string) string {
	if g == "core" {
		return ""
	}
	return g
}
