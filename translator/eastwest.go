package translator

import "github.com/causeway-dev/causeway/model"

// buildEastWest adds the east-west gateway's mTLS listener and its inbound
// clusters with local endpoints.
func buildEastWest(w *model.Snapshot, p model.Proxy, r *Resources) {
	// TODO(helper-endpoints)
}
