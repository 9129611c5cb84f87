package model

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// ProxyFromNode reads a proxy identity from an Envoy node: role, cluster,
// bind address and Gateway from node metadata, locality from node.locality.
// A node whose locality is empty takes its cluster's default locality, when
// the cluster is known to the snapshot.
func ProxyFromNode(node *corev3.Node, world *Snapshot) (Proxy, error) {
	p := Proxy{}
	if md := node.GetMetadata(); md != nil {
		p.Role = Role(md.GetFields()[NodeMetaRole].GetStringValue())
		p.Cluster = md.GetFields()[NodeMetaCluster].GetStringValue()
		p.BindAddress = md.GetFields()[NodeMetaBindAddress].GetStringValue()
		p.Gateway = md.GetFields()[NodeMetaGateway].GetStringValue()
	}
	if l := node.GetLocality(); l != nil {
		p.Locality = Locality{Region: l.GetRegion(), Zone: l.GetZone(), Subzone: l.GetSubZone()}
	}
	if p.Locality == (Locality{}) && world != nil {
		if c := world.Cluster(p.Cluster); c != nil {
			p.Locality = c.Locality
		}
	}
	return p, p.Validate()
}
