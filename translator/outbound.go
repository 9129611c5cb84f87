package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/model"
)

// buildOutbound adds, for a gateway proxy, one EDS cluster and its endpoints
// per VirtualDestination host and port.
func buildOutbound(w *model.Snapshot, p model.Proxy, r *Resources) {
	// TODO(helper-endpoints)
}

// serviceCluster returns the EDS cluster and endpoints for a Service
// backendRef: svc's ready endpoints in the proxy's own cluster, on the
// Service port numbered port. Named ServiceClusterName(ns, name, port).
func serviceCluster(w *model.Snapshot, p model.Proxy, svc *model.Service, port uint32) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment) {
	// TODO(helper-endpoints)
	return nil, nil
}
