package translator

import (
	"github.com/causeway-dev/causeway/model"
)

func vdObject(vd *model.VirtualDestination) string {
	return "VirtualDestination " + vd.Namespace + "/" + vd.Name
}

// localServices are the services in cluster.
func localServices(services []*model.Service, cluster string) []*model.Service {
	var out []*model.Service
	for _, s := range services {
		if s.Cluster == cluster {
			out = append(out, s)
		}
	}
	return out
}
