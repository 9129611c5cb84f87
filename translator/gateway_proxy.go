package translator

import (
	"strings"

	"github.com/causeway-dev/causeway/model"
)

// reportProxyGateway explains why a proxy of one Gateway gets no listeners:
// the Gateway does not exist, or another cluster's proxies serve it. The
// object at fault is the proxy's identity (or the missing Gateway), so the
// diagnostic names the node metadata.
func reportProxyGateway(w *model.Snapshot, p model.Proxy, r *Resources) {
	if p.Gateway == "" || p.Gateway == model.AllGateways {
		return
	}
	obj, field := "gateway proxy of cluster "+p.Cluster, "node.metadata."+model.NodeMetaGateway
	ns, name, _ := strings.Cut(p.Gateway, "/")
	switch gw := w.Gateway(ns, name); {
	case gw == nil:
		r.report(obj, field, "Gateway %s not found; the proxy gets no listeners", p.Gateway)
	case !servedBy(gw, p.Cluster):
		r.report(obj, field, "Gateway %s is served by the gateway proxies of cluster %q (annotation %s), not %q; the proxy gets no listeners",
			p.Gateway, gw.Annotations[model.ClusterAnnotation], model.ClusterAnnotation, p.Cluster)
	}
}
