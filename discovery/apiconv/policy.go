package apiconv

import (
	"fmt"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// ExternalService checks es as its CRD does.
func ExternalService(es *v1alpha1.ExternalService) []FieldError {
	var e errs
	spec := &es.Spec
	e.hosts(spec.Hosts)
	if len(spec.Ports) == 0 {
		e.add("spec.ports", "at least one port is required")
	}
	names, numbers := map[string]bool{}, map[int32]bool{}
	for i, p := range spec.Ports {
		field := fmt.Sprintf("spec.ports[%d]", i)
		e.uniquePort(field+".number", p.Number, numbers)
		e.dnsLabel(field+".name", "port name", p.Name)
		if names[p.Name] {
			e.add(field+".name", "duplicate port name %q", p.Name)
		}
		names[p.Name] = true
		e.protocol(field+".protocol", p.Protocol)
	}
	if len(spec.Endpoints) == 0 {
		e.add("spec.endpoints", "at least one endpoint is required")
	}
	for i, ep := range spec.Endpoints {
		field := fmt.Sprintf("spec.endpoints[%d]", i)
		switch {
		case ep.Address == "":
			e.add(field+".address", "is required")
		case !isIP(ep.Address):
			e.dnsSubdomain(field+".address", "IP address or DNS name", ep.Address)
		}
		for _, name := range sortedKeys(ep.Ports) {
			if !names[name] {
				e.add(fmt.Sprintf("%s.ports[%s]", field, name), "names no port of spec.ports")
			}
			e.port(fmt.Sprintf("%s.ports[%s]", field, name), ep.Ports[name])
		}
		if ep.Locality != nil {
			e.locality(field+".locality", ep.Locality.Region, ep.Locality.Zone, ep.Locality.SubZone)
		}
	}
	return e
}

func (e *errs) locality(field, region, zone, subZone string) {
	if zone != "" && region == "" {
		e.add(field, "zone requires region")
	}
	if subZone != "" && zone == "" {
		e.add(field, "subZone requires zone")
	}
}

func (e *errs) destinations(sels []v1alpha1.DestinationSelector) {
	if len(sels) == 0 {
		e.add("spec.applyToDestinations", "at least one selector is required")
	}
}

// FailoverPolicy checks fp as its CRD does.
func FailoverPolicy(fp *v1alpha1.FailoverPolicy) []FieldError {
	var e errs
	e.destinations(fp.Spec.ApplyToDestinations)
	cfg := &fp.Spec.Config
	if len(cfg.LocalityMappings) == 0 && cfg.PriorityLabels == nil {
		e.add("spec.config", "set localityMappings or priorityLabels")
	}
	for i, m := range cfg.LocalityMappings {
		field := fmt.Sprintf("spec.config.localityMappings[%d]", i)
		if m.From.Region == "" {
			e.add(field+".from.region", "is required")
		}
		e.locality(field+".from", m.From.Region, m.From.Zone, m.From.SubZone)
		if len(m.To) == 0 {
			e.add(field+".to", "at least one locality is required")
		}
		for j, to := range m.To {
			tf := fmt.Sprintf("%s.to[%d]", field, j)
			if to.Region == "" {
				e.add(tf+".region", "is required")
			}
			e.locality(tf, to.Region, to.Zone, to.SubZone)
			if to.Weight < 0 || to.Weight > 1000000 {
				e.add(tf+".weight", "must be 1-1000000 (or unset), got %d", to.Weight)
			}
		}
	}
	if pl := cfg.PriorityLabels; pl != nil {
		if len(pl.Labels) == 0 {
			e.add("spec.config.priorityLabels.labels", "at least one label key is required")
		}
		seen := map[string]bool{}
		for i, l := range pl.Labels {
			field := fmt.Sprintf("spec.config.priorityLabels.labels[%d]", i)
			if l == "" {
				e.add(field, "must not be empty")
			}
			if seen[l] {
				e.add(field, "duplicate label key %q", l)
			}
			seen[l] = true
		}
	}
	return e
}

// OutlierDetectionPolicy checks p as its CRD does. Unset config fields are
// fine: the translator uses the ...OrDefault accessors.
func OutlierDetectionPolicy(p *v1alpha1.OutlierDetectionPolicy) []FieldError {
	var e errs
	e.destinations(p.Spec.ApplyToDestinations)
	c := &p.Spec.Config
	if c.ConsecutiveErrors != nil && *c.ConsecutiveErrors < 1 {
		e.add("spec.config.consecutiveErrors", "must be at least 1, got %d", *c.ConsecutiveErrors)
	}
	if c.Interval != nil && c.Interval.Duration <= 0 {
		e.add("spec.config.interval", "must be positive, got %s", c.Interval.Duration)
	}
	if c.BaseEjectionTime != nil && c.BaseEjectionTime.Duration <= 0 {
		e.add("spec.config.baseEjectionTime", "must be positive, got %s", c.BaseEjectionTime.Duration)
	}
	if c.MaxEjectionPercent != nil && (*c.MaxEjectionPercent < 0 || *c.MaxEjectionPercent > 100) {
		e.add("spec.config.maxEjectionPercent", "must be 0-100, got %d", *c.MaxEjectionPercent)
	}
	return e
}
