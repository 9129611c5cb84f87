package model

import (
	"fmt"
	"math"
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// ProxyFromNode reads a proxy identity from an Envoy node: role, cluster,
// bind address, Gateway, and a client proxy's namespace and DNS port from
// node metadata, locality from node.locality.
// A node whose locality is empty takes its cluster's default locality, when
// the cluster is known to the snapshot.
func ProxyFromNode(node *corev3.Node, world *Snapshot) (Proxy, error) {
	p := Proxy{}
	if md := node.GetMetadata(); md != nil {
		p.Role = Role(md.GetFields()[NodeMetaRole].GetStringValue())
		p.Cluster = md.GetFields()[NodeMetaCluster].GetStringValue()
		p.BindAddress = md.GetFields()[NodeMetaBindAddress].GetStringValue()
		p.Gateway = md.GetFields()[NodeMetaGateway].GetStringValue()
		p.Namespace = md.GetFields()[NodeMetaNamespace].GetStringValue()
		if v, ok := md.GetFields()[NodeMetaDNSPort]; ok {
			port, err := dnsPortValue(v)
			if err != nil {
				return p, err
			}
			p.DNSPort = port
		}
	}
	if p.Role == RoleClient && p.DNSPort == 0 {
		p.DNSPort = DefaultDNSPort
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

// dnsPortValue reads causeway.dns_port: a number or a decimal string
// (bootstraps written by hand often quote it), 1-65535.
func dnsPortValue(v *structpb.Value) (uint32, error) {
	var f float64
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		f = k.NumberValue
	case *structpb.Value_StringValue:
		n, err := strconv.ParseUint(k.StringValue, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("node metadata %s: %q is not a port number", NodeMetaDNSPort, clipRef(k.StringValue))
		}
		f = float64(n)
	default:
		return 0, fmt.Errorf("node metadata %s: want a port number", NodeMetaDNSPort)
	}
	if f != math.Trunc(f) || f < 1 || f > 65535 {
		return 0, fmt.Errorf("node metadata %s: %v is not a port number in 1-65535", NodeMetaDNSPort, f)
	}
	return uint32(f), nil
}
