package translator

import "github.com/causeway-dev/causeway/model"

// endpointPort is the port on endpoint ep of svc that VirtualDestination
// port vp forwards to; false when vp names a target port neither the
// endpoint nor the Service has.
//
//   - targetPort.number: that number.
//   - targetPort.name: the endpoint port with that name, else the Service
//     port with that name and its target port.
//   - unset: the Service port numbered like vp and its target port, else
//     vp's own number.
//
// A Service port's target on an endpoint is the endpoint port carrying the
// Service port's name when there is one (as in an EndpointSlice), else the
// Service port's TargetPort.
func endpointPort(vp model.VirtualDestinationPort, svc *model.Service, ep *model.Endpoint) (uint32, bool) {
	if tp := vp.TargetPort; tp != nil && tp.Number != 0 {
		return tp.Number, true
	} else if tp != nil && tp.Name != "" {
		if n, ok := namedEndpointPort(ep, tp.Name); ok {
			return n, true
		}
		for _, sp := range svc.Ports {
			if sp.Name == tp.Name {
				return servicePortTarget(sp, ep), true
			}
		}
		return 0, false
	}
	for _, sp := range svc.Ports {
		if sp.Port == vp.Number {
			return servicePortTarget(sp, ep), true
		}
	}
	return vp.Number, true
}

// servicePortTarget is where Service port sp lands on ep.
func servicePortTarget(sp model.ServicePort, ep *model.Endpoint) uint32 {
	if sp.Name != "" {
		if n, ok := namedEndpointPort(ep, sp.Name); ok {
			return n
		}
	}
	if sp.TargetPort != 0 {
		return sp.TargetPort
	}
	return sp.Port
}

func namedEndpointPort(ep *model.Endpoint, name string) (uint32, bool) {
	for _, p := range ep.Ports {
		if p.Name == name {
			return p.Port, true
		}
	}
	return 0, false
}
