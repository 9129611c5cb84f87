package translator

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Rule timeouts and retries (Gateway API v1 HTTPRouteTimeouts and
// HTTPRouteRetry) as Envoy route timeout and retry policy.

// gatewayDurationPattern is GEP-2257's duration syntax, a strict subset of
// what time.ParseDuration takes.
var gatewayDurationPattern = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

func parseGatewayDuration(d gwv1.Duration, field string) (time.Duration, *ruleProblem) {
	if gatewayDurationPattern.MatchString(string(d)) {
		if v, err := time.ParseDuration(string(d)); err == nil {
			return v, nil
		}
	}
	p := invalidValue(field, "duration %q is not a Gateway API duration (like 10s, 500ms or 1h30m)", d)
	return 0, &p
}

// Envoy's retry conditions for the connection errors the Gateway API says
// a retry stanza covers (disconnect, reset, timeout, TCP failure):
// connect-failure is TCP failure, reset covers disconnects, resets and
// per-try timeouts, refused-stream is an HTTP/2 stream the backend refused
// before processing it.
const (
	retryOnConnectionErrors = "connect-failure,refused-stream,reset"
	retryOnStatusCodes      = "retriable-status-codes"
)

// defaultRetryAttempts is the number of retries when attempts is unset
// (the Gateway API leaves it to the implementation): Envoy's default, made
// explicit.
const defaultRetryAttempts = 1

// hostSelectionRetryAttempts is how often Envoy may pick again to avoid a
// host that already failed this request (previous_hosts predicate).
const hostSelectionRetryAttempts = 3

// ruleTimeouts compiles a rule's timeouts and retry:
//   - timeouts.request is the route timeout (0s disables it, as in Envoy);
//   - timeouts.backendRequest is the per-try timeout (0s: none). Without
//     timeouts.request the route timeout is then disabled, so that Envoy's
//     default of 15s does not cut attempts the user allowed to take longer;
//   - retry retries on connection errors and, when codes are given, on
//     those status codes (the Gateway API has no default codes), attempts
//     times (default 1), waiting backoff at least (Envoy backs off
//     exponentially from it, up to 10 times it). Retries avoid the hosts
//     that already failed the request when there are others.
//
// backendRequest longer than a non-zero request is invalid, as the
// Gateway API says.
func ruleTimeouts(t *gwv1.HTTPRouteTimeouts, r *gwv1.HTTPRouteRetry, field string) (*durationpb.Duration, *routev3.RetryPolicy, []ruleProblem) {
	var problems []ruleProblem
	var timeout *durationpb.Duration
	var policy *routev3.RetryPolicy
	if t != nil {
		var request, backend time.Duration
		var p *ruleProblem
		if t.Request != nil {
			if request, p = parseGatewayDuration(*t.Request, field+".timeouts.request"); p != nil {
				problems = append(problems, *p)
			}
			timeout = durationpb.New(request)
		}
		if t.BackendRequest != nil {
			if backend, p = parseGatewayDuration(*t.BackendRequest, field+".timeouts.backendRequest"); p != nil {
				problems = append(problems, *p)
			}
			if request > 0 && backend > request {
				problems = append(problems, invalidValue(field+".timeouts.backendRequest",
					"backendRequest %s is longer than request %s", *t.BackendRequest, *t.Request))
			}
			if timeout == nil {
				timeout = durationpb.New(0)
			}
			policy = &routev3.RetryPolicy{NumRetries: wrapperspb.UInt32(0)}
			if backend > 0 {
				policy.PerTryTimeout = durationpb.New(backend)
			}
		}
	}
	if r != nil {
		if policy == nil {
			policy = &routev3.RetryPolicy{}
		}
		problems = append(problems, compileRetry(r, field+".retry", policy)...)
	}
	return timeout, policy, problems
}

// compileRetry fills policy from a retry stanza.
func compileRetry(r *gwv1.HTTPRouteRetry, field string, policy *routev3.RetryPolicy) []ruleProblem {
	var problems []ruleProblem
	policy.RetryOn = retryOnConnectionErrors
	for i, c := range r.Codes {
		switch {
		case c < 400 || c > 599:
			problems = append(problems, invalidValue(fmt.Sprintf("%s.codes[%d]", field, i), "status code %d is outside 400..599", c))
		case !slices.Contains(policy.RetriableStatusCodes, uint32(c)):
			policy.RetriableStatusCodes = append(policy.RetriableStatusCodes, uint32(c))
		}
	}
	if len(policy.RetriableStatusCodes) > 0 {
		policy.RetryOn += "," + retryOnStatusCodes
	}
	attempts := defaultRetryAttempts
	if r.Attempts != nil {
		attempts = *r.Attempts
	}
	if attempts < 0 || attempts > 1<<20 {
		problems = append(problems, invalidValue(field+".attempts", "attempts %d is outside 0..%d", attempts, 1<<20))
	}
	policy.NumRetries = wrapperspb.UInt32(uint32(max(attempts, 0)))
	if r.Backoff != nil {
		backoff, p := parseGatewayDuration(*r.Backoff, field+".backoff")
		if p != nil {
			problems = append(problems, *p)
		}
		if backoff > 0 {
			policy.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(backoff)}
		}
	}
	policy.RetryHostPredicate = previousHostsPredicate()
	policy.HostSelectionRetryMaxAttempts = hostSelectionRetryAttempts
	return problems
}

// previousHostsPredicate makes a retry avoid the hosts already tried.
func previousHostsPredicate() []*routev3.RetryPolicy_RetryHostPredicate {
	return []*routev3.RetryPolicy_RetryHostPredicate{{
		Name:       previousHostsPredicateName,
		ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: typedAny(&previoushostsv3.PreviousHostsPredicate{})},
	}}
}
