package translator

import "github.com/causeway-dev/causeway/model"

// buildGateway adds listeners and route configurations for the Gateways and
// HTTPRoutes this gateway proxy serves.
func buildGateway(w *model.Snapshot, p model.Proxy, r *Resources) {
	// TODO(helper-routes)
}
