package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// worldFlags name an offline world, shared by translate and explain: a
// world file (--world) or Kubernetes manifests (--kube, --clusters), seen
// by a Causeway whose GatewayClass controllerName is --controller-name.
type worldFlags struct {
	world          string
	kube           []string
	clusters       string
	controllerName string
}

func (f *worldFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.world, "world", "", "world file (this or --kube)")
	fs.StringArrayVar(&f.kube, "kube", nil, "CLUSTER=PATH: Kubernetes manifests (a file or directory) of cluster CLUSTER; repeatable")
	fs.StringVar(&f.clusters, "clusters", "", "with --kube: cluster config file for networks, localities and east-west gateways")
	fs.StringVar(&f.controllerName, "controller-name", model.DefaultControllerName, "GatewayClass controllerName Causeway owns: only Gateways of GatewayClasses with it are translated")
}

// load reads the world. source names it in messages; invalid are the
// objects --kube mode left out (reported like diagnostics). A world that
// does not load exits 2.
func (f *worldFlags) load() (world *model.Snapshot, source string, invalid []error, err error) {
	if f.clusters != "" && len(f.kube) == 0 {
		return nil, "", nil, errors.New("--clusters needs --kube")
	}
	source = f.world
	if len(f.kube) > 0 {
		source = "the --kube clusters"
		world, invalid, err = loadManifests(f.kube, f.clusters)
	} else {
		world, err = file.Load(f.world)
		if err != nil {
			err = &exitCodeError{code: exitInvalidWorld, err: err}
		}
	}
	if err != nil {
		return nil, "", nil, err
	}
	return world.WithControllerName(f.controllerName), source, invalid, nil
}

// placeProxy checks that p's cluster is in the world and gives a proxy
// without a locality its cluster's, as for an Envoy whose bootstrap names
// none.
func placeProxy(world *model.Snapshot, source string, p model.Proxy) (model.Proxy, error) {
	c := world.Cluster(p.Cluster)
	if c == nil {
		return p, fmt.Errorf("--cluster %q is not in %s (clusters: %s)", p.Cluster, source, clusterNames(world))
	}
	if p.Locality == (model.Locality{}) {
		p.Locality = c.Locality
	}
	return p, nil
}
