package translator

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// routeCheck is what Statuses reports about an HTTPRoute's rules apart
// from backendRef resolution. It depends on the route alone (compileRule
// and translateMatch, as Translate runs them), so it is computed once.
type routeCheck struct {
	// invalid lists the invalid values, "field: message (consequence)":
	// matches dropped and rules answering 500.
	invalid []string
	// reason is the first invalid value's reason.
	reason gwv1.RouteConditionReason
	// allInvalid: no rule of the route is served as written.
	allInvalid bool
	// refs are unresolvable ExtensionRef filters (their rules answer 500).
	refs []string
	// mirrors are the RequestMirror filters, resolved per cluster.
	mirrors []*mirrorFilter
}

func checkRoute(route *model.HTTPRoute) routeCheck {
	var c routeCheck
	broken := 0
	for i, rule := range route.Spec.Rules {
		field := ruleField(i)
		cr := compileRule(rule, field)
		c.mirrors = append(c.mirrors, cr.mirrors...)
		ruleBroken := false
		for _, p := range cr.problems {
			if p.ref {
				c.refs = append(c.refs, fmt.Sprintf("%s: %s", p.field, p.message))
				continue
			}
			c.addInvalid(p.reason, fmt.Sprintf("%s: %s (%s answers 500)", p.field, p.message, field))
			ruleBroken = true
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{defaultMatch}
		}
		valid := 0
		for k, m := range matches {
			if _, _, ferr := translateMatch(m, subField(field, "matches", k)); ferr != nil {
				c.addInvalid(gwv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s: %s (match dropped)", ferr.field, ferr.message))
			} else {
				valid++
			}
		}
		if ruleBroken || valid == 0 {
			broken++
		}
	}
	c.allInvalid = len(route.Spec.Rules) > 0 && broken == len(route.Spec.Rules)
	return c
}

func (c *routeCheck) addInvalid(reason gwv1.RouteConditionReason, msg string) {
	if c.reason == "" {
		c.reason = reason
	}
	c.invalid = append(c.invalid, msg)
}

// parentConditions are the conditions of one Gateway parent of a route:
// Accepted (from the attachment, unless every rule is invalid: then False
// with the invalid values' reason), ResolvedRefs (reason and message from
// resolvedRefs) and, when some but not all of the rules are invalid,
// PartiallyInvalid. Causeway takes the Gateway API's "drop rule(s)"
// approach for those: an invalid match is left out, a rule with an
// invalid value answers 500 (see filters.go), the rest is served.
func (c routeCheck) parentConditions(pa parentAttachment, refsReason gwv1.RouteConditionReason, refsMessage string) []metav1.Condition {
	accepted := condition(string(gwv1.RouteConditionAccepted), pa.reason == gwv1.RouteReasonAccepted, pa.reason, pa.conditionMessage())
	if pa.reason == gwv1.RouteReasonAccepted && c.allInvalid {
		accepted = condition(string(gwv1.RouteConditionAccepted), false, c.reason, "every rule is invalid: "+strings.Join(c.invalid, "; "))
	}
	out := []metav1.Condition{
		accepted,
		condition(string(gwv1.RouteConditionResolvedRefs), refsReason == gwv1.RouteReasonResolvedRefs, refsReason, refsMessage),
	}
	if pa.reason == gwv1.RouteReasonAccepted && !c.allInvalid && len(c.invalid) > 0 {
		out = append(out, condition(string(gwv1.RouteConditionPartiallyInvalid), true, gwv1.RouteReasonUnsupportedValue,
			"Dropped Rule(s): "+strings.Join(c.invalid, "; ")))
	}
	return out
}
