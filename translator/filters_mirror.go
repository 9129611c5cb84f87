package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// RequestMirror filters. The mirror's backendRef is resolved like any
// other backendRef; when it does not resolve, the mirror is dropped and the
// rule still serves (the Gateway API says the backend "must be dropped",
// with ResolvedRefs False), unlike an invalid percent or fraction, which
// makes the rule answer 500 like every invalid value.

// mirrorFilter is a checked RequestMirror filter, its backend unresolved.
type mirrorFilter struct {
	field string // the filter's backendRef, for diagnostics
	ref   gwv1.BackendObjectReference
	// fraction of requests mirrored; nil: every request.
	fraction *typev3.FractionalPercent
}

func compileMirror(f *gwv1.HTTPRequestMirrorFilter, field string) (*mirrorFilter, []ruleProblem) {
	if f == nil {
		return nil, []ruleProblem{invalidValue(field, "filter needs requestMirror")}
	}
	fraction, p := mirrorFraction(f, field+".requestMirror")
	if p != nil {
		return nil, []ruleProblem{*p}
	}
	return &mirrorFilter{field: field + ".requestMirror.backendRef", ref: f.BackendRef, fraction: fraction}, nil
}

// envoyDenominators are the denominators Envoy's FractionalPercent has.
var envoyDenominators = []struct {
	value int64
	d     typev3.FractionalPercent_DenominatorType
}{{100, typev3.FractionalPercent_HUNDRED}, {10000, typev3.FractionalPercent_TEN_THOUSAND}, {1000000, typev3.FractionalPercent_MILLION}}

// mirrorFraction maps percent or fraction (denominator 100 by default) to
// Envoy's FractionalPercent. A denominator Envoy lacks becomes millionths,
// rounded to the nearest (exact whenever it divides a million).
func mirrorFraction(f *gwv1.HTTPRequestMirrorFilter, field string) (*typev3.FractionalPercent, *ruleProblem) {
	switch {
	case f.Percent != nil && f.Fraction != nil:
		p := invalidValue(field, "only one of percent and fraction may be set")
		return nil, &p
	case f.Percent != nil:
		if *f.Percent < 0 || *f.Percent > 100 {
			p := invalidValue(field+".percent", "percent %d is outside 0..100", *f.Percent)
			return nil, &p
		}
		return &typev3.FractionalPercent{Numerator: uint32(*f.Percent), Denominator: typev3.FractionalPercent_HUNDRED}, nil
	case f.Fraction != nil:
		num, den := int64(f.Fraction.Numerator), int64(100)
		if f.Fraction.Denominator != nil {
			den = int64(*f.Fraction.Denominator)
		}
		if den < 1 || num < 0 || num > den {
			p := invalidValue(field+".fraction", "fraction %d/%d must have 0 <= numerator <= denominator and denominator >= 1", num, den)
			return nil, &p
		}
		for _, d := range envoyDenominators {
			if den == d.value {
				return &typev3.FractionalPercent{Numerator: uint32(num), Denominator: d.d}, nil
			}
		}
		return &typev3.FractionalPercent{Numerator: uint32((num*1000000 + den/2) / den), Denominator: typev3.FractionalPercent_MILLION}, nil
	}
	return nil, nil
}

// mirrorPolicy is the Envoy mirror policy sending m's share to cluster.
func (m *mirrorFilter) mirrorPolicy(cluster string) *routev3.RouteAction_RequestMirrorPolicy {
	mp := &routev3.RouteAction_RequestMirrorPolicy{Cluster: cluster}
	if m.fraction != nil {
		mp.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: m.fraction}
	}
	return mp
}
