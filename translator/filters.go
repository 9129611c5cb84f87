package translator

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// HTTPRoute filters (Gateway API v1), on rules and on backendRefs.
//
// A rule is programmed as written or not at all: when one of its filters,
// its timeouts or its retry cannot be expressed in Envoy, the rule answers
// 500 instead of running without that part. Skipping a filter would change
// what a request does (a header not removed, a redirect not made), and
// dropping the rule would let its requests fall through to a less specific
// rule the user never meant for them. The Gateway API asks the same for
// unresolvable ExtensionRef filters: the filter "MUST NOT be skipped", the
// requests get an error response. Invalid matches are different: a match
// that cannot be expressed is dropped alone, since no request then matches
// it (see translateMatch).
//
// Status (routeConditions): invalid values are reported with reason
// UnsupportedValue (IncompatibleFilters for combinations the API forbids),
// as a PartiallyInvalid condition while other rules of the route still
// work, or as Accepted False when none does; an ExtensionRef Causeway does
// not know makes ResolvedRefs False with reason InvalidKind.

// ruleProblem is one reason a rule answers 500, naming the field at fault.
type ruleProblem struct {
	field, message string
	reason         gwv1.RouteConditionReason
	// ref: an unresolvable reference (reported under ResolvedRefs) rather
	// than an invalid value (reported under Accepted / PartiallyInvalid).
	ref bool
}

func invalidValue(field, format string, args ...any) ruleProblem {
	return ruleProblem{field: field, message: fmt.Sprintf(format, args...), reason: gwv1.RouteReasonUnsupportedValue}
}

// headerFilters are header modifiers compiled for Envoy. Envoy evaluates
// format strings in header values, so values are escaped ("%" as "%%").
type headerFilters struct {
	requestAdd, responseAdd       []*corev3.HeaderValueOption
	requestRemove, responseRemove []string
}

func (h headerFilters) empty() bool {
	return len(h.requestAdd)+len(h.responseAdd)+len(h.requestRemove)+len(h.responseRemove) == 0
}

func (h headerFilters) equal(o headerFilters) bool {
	eq := func(a, b []*corev3.HeaderValueOption) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !proto.Equal(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return eq(h.requestAdd, o.requestAdd) && eq(h.responseAdd, o.responseAdd) &&
		strings.Join(h.requestRemove, "\x00") == strings.Join(o.requestRemove, "\x00") &&
		strings.Join(h.responseRemove, "\x00") == strings.Join(o.responseRemove, "\x00")
}

// isSubsetFilter reports whether f is the ExtensionRef that selects a
// VirtualDestination subset on a backendRef; backendRef resolution handles
// it, so filter compilation leaves it alone.
func isSubsetFilter(f gwv1.HTTPRouteFilter) bool {
	return f.Type == gwv1.HTTPRouteFilterExtensionRef && f.ExtensionRef != nil &&
		string(f.ExtensionRef.Group) == model.APIGroup && f.ExtensionRef.Kind == "Subset"
}

// unknownExtension is the problem with an ExtensionRef Causeway cannot run.
func unknownExtension(f gwv1.HTTPRouteFilter, field string) ruleProblem {
	if f.ExtensionRef == nil {
		return invalidValue(field+".extensionRef", "filter type ExtensionRef needs extensionRef")
	}
	e := f.ExtensionRef
	return ruleProblem{
		field:   field + ".extensionRef",
		message: fmt.Sprintf("ExtensionRef group %q kind %q name %q is not supported (Causeway knows only %s Subset, on backendRefs)", e.Group, e.Kind, e.Name, model.APIGroup),
		reason:  gwv1.RouteReasonInvalidKind,
		ref:     true,
	}
}

// compileHeaderFilter adds one RequestHeaderModifier or
// ResponseHeaderModifier to h. A header name may take one action only, as
// the Gateway API requires; Envoy refuses to modify Host (use URLRewrite's
// hostname) and pseudo-headers (which are no valid names anyway).
func compileHeaderFilter(f *gwv1.HTTPHeaderFilter, field string, response bool, h *headerFilters) []ruleProblem {
	var problems []ruleProblem
	seen := map[string]bool{}
	check := func(name, at string) (string, bool) {
		lower := strings.ToLower(name)
		switch {
		case !httpTokenPattern.MatchString(name):
			problems = append(problems, invalidValue(at, "header name %q is not a valid HTTP header name", name))
		case lower == "host":
			problems = append(problems, invalidValue(at, "header Host cannot be modified here (use a URLRewrite filter's hostname)"))
		case seen[lower]:
			problems = append(problems, invalidValue(at, "header %q is given more than one action; the Gateway API allows one", name))
		default:
			seen[lower] = true
			return lower, true
		}
		return "", false
	}
	add := func(list []gwv1.HTTPHeader, kind string, action corev3.HeaderValueOption_HeaderAppendAction) []*corev3.HeaderValueOption {
		var out []*corev3.HeaderValueOption
		for i, hv := range list {
			hf := fmt.Sprintf("%s.%s[%d]", field, kind, i)
			name, ok := check(string(hv.Name), hf+".name")
			if !ok {
				continue
			}
			if strings.ContainsAny(hv.Value, "\x00\r\n") {
				problems = append(problems, invalidValue(hf+".value", "value must not contain NUL, CR or LF"))
				continue
			}
			out = append(out, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: name, Value: strings.ReplaceAll(hv.Value, "%", "%%")},
				AppendAction: action,
			})
		}
		return out
	}
	set := add(f.Set, "set", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)
	appended := add(f.Add, "add", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)
	var remove []string
	for i, name := range f.Remove {
		if lower, ok := check(name, fmt.Sprintf("%s.remove[%d]", field, i)); ok {
			remove = append(remove, lower)
		}
	}
	if response {
		h.responseAdd = append(append(h.responseAdd, set...), appended...)
		h.responseRemove = append(h.responseRemove, remove...)
	} else {
		h.requestAdd = append(append(h.requestAdd, set...), appended...)
		h.requestRemove = append(h.requestRemove, remove...)
	}
	return problems
}

// backendRefFilters compiles the filters of one backendRef. Envoy can run
// header modifiers per weighted cluster, and nothing else: a redirect,
// rewrite or mirror there is unsupported. Subset ExtensionRefs are left to
// backendRef resolution.
func backendRefFilters(filters []gwv1.HTTPRouteFilter, field string) (headerFilters, []ruleProblem) {
	var h headerFilters
	var problems []ruleProblem
	seen := map[gwv1.HTTPRouteFilterType]bool{}
	for k, f := range filters {
		ff := fmt.Sprintf("%s.filters[%d]", field, k)
		if isSubsetFilter(f) {
			continue
		}
		if f.Type != gwv1.HTTPRouteFilterExtensionRef && seen[f.Type] {
			problems = append(problems, invalidValue(ff+".type", "filter %s is given more than once", f.Type))
			continue
		}
		seen[f.Type] = true
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			problems = append(problems, headerModifier(f.RequestHeaderModifier, ff, "requestHeaderModifier", false, &h)...)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			problems = append(problems, headerModifier(f.ResponseHeaderModifier, ff, "responseHeaderModifier", true, &h)...)
		case gwv1.HTTPRouteFilterExtensionRef:
			problems = append(problems, unknownExtension(f, ff))
		default:
			problems = append(problems, invalidValue(ff+".type", "filter %s is not supported on a backendRef (only RequestHeaderModifier and ResponseHeaderModifier; put it on the rule)", f.Type))
		}
	}
	return h, problems
}

// headerModifier compiles a header modifier filter whose configuration is
// in field key of the filter at field ff.
func headerModifier(f *gwv1.HTTPHeaderFilter, ff, key string, response bool, h *headerFilters) []ruleProblem {
	if f == nil {
		return []ruleProblem{invalidValue(ff+"."+key, "filter needs %s", key)}
	}
	return compileHeaderFilter(f, ff+"."+key, response, h)
}
