package translator

import (
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestRuleTimeouts(t *testing.T) {
	d := func(s string) *gwv1.Duration { v := gwv1.Duration(s); return &v }
	dur := func(s string) *durationpb.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return durationpb.New(v)
	}
	previousHosts := []*routev3.RetryPolicy_RetryHostPredicate{{
		Name:       "envoy.retry_host_predicates.previous_hosts",
		ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: typedAny(&previoushostsv3.PreviousHostsPredicate{})},
	}}
	for _, tc := range []struct {
		name        string
		timeouts    *gwv1.HTTPRouteTimeouts
		retry       *gwv1.HTTPRouteRetry
		wantTimeout *durationpb.Duration
		wantRetry   *routev3.RetryPolicy
		wantProblem []string
	}{
		{name: "nothing"},
		{name: "request only", timeouts: &gwv1.HTTPRouteTimeouts{Request: d("1m30s")}, wantTimeout: dur("90s")},
		{name: "request 0s disables", timeouts: &gwv1.HTTPRouteTimeouts{Request: d("0s")}, wantTimeout: dur("0s")},
		{name: "both", timeouts: &gwv1.HTTPRouteTimeouts{Request: d("10s"), BackendRequest: d("2s")}, wantTimeout: dur("10s"),
			wantRetry: &routev3.RetryPolicy{NumRetries: wrapperspb.UInt32(0), PerTryTimeout: dur("2s")}},
		{name: "backendRequest alone disables the route timeout", timeouts: &gwv1.HTTPRouteTimeouts{BackendRequest: d("500ms")},
			wantTimeout: dur("0s"), wantRetry: &routev3.RetryPolicy{NumRetries: wrapperspb.UInt32(0), PerTryTimeout: dur("500ms")}},
		{name: "backendRequest with request 0s", timeouts: &gwv1.HTTPRouteTimeouts{Request: d("0s"), BackendRequest: d("20s")},
			wantTimeout: dur("0s"), wantRetry: &routev3.RetryPolicy{NumRetries: wrapperspb.UInt32(0), PerTryTimeout: dur("20s")}},
		{name: "backendRequest above request", timeouts: &gwv1.HTTPRouteTimeouts{Request: d("1s"), BackendRequest: d("2s")},
			wantProblem: []string{"r.timeouts.backendRequest"}},
		{name: "not a Gateway API duration", timeouts: &gwv1.HTTPRouteTimeouts{Request: d("1.5s")},
			wantProblem: []string{"r.timeouts.request"}},
		{name: "retry defaults: connection errors, once", retry: &gwv1.HTTPRouteRetry{},
			wantRetry: &routev3.RetryPolicy{RetryOn: "connect-failure,refused-stream,reset", NumRetries: wrapperspb.UInt32(1),
				RetryHostPredicate: previousHosts, HostSelectionRetryMaxAttempts: 3}},
		{name: "retry with codes, attempts, backoff and per-try timeout",
			timeouts:    &gwv1.HTTPRouteTimeouts{Request: d("10s"), BackendRequest: d("1s")},
			retry:       &gwv1.HTTPRouteRetry{Codes: []gwv1.HTTPRouteRetryStatusCode{503, 500, 503}, Attempts: ptr(3), Backoff: d("100ms")},
			wantTimeout: dur("10s"),
			wantRetry: &routev3.RetryPolicy{RetryOn: "connect-failure,refused-stream,reset,retriable-status-codes",
				RetriableStatusCodes: []uint32{503, 500}, NumRetries: wrapperspb.UInt32(3), PerTryTimeout: dur("1s"),
				RetryBackOff:       &routev3.RetryPolicy_RetryBackOff{BaseInterval: dur("100ms")},
				RetryHostPredicate: previousHosts, HostSelectionRetryMaxAttempts: 3}},
		{name: "bad retry values", retry: &gwv1.HTTPRouteRetry{Codes: []gwv1.HTTPRouteRetryStatusCode{200}, Attempts: ptr(-1), Backoff: d("soon")},
			wantProblem: []string{"r.retry.codes[0]", "r.retry.attempts", "r.retry.backoff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			timeout, retry, problems := ruleTimeouts(tc.timeouts, tc.retry, "r")
			var fields []string
			for _, p := range problems {
				fields = append(fields, p.field)
			}
			if diff := cmp.Diff(tc.wantProblem, fields); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if len(problems) > 0 {
				return
			}
			if diff := cmp.Diff(tc.wantTimeout, timeout, protocmp.Transform()); diff != "" {
				t.Errorf("timeout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRetry, retry, protocmp.Transform()); diff != "" {
				t.Errorf("retry policy (-want +got):\n%s", diff)
			}
			if retry != nil {
				if err := retry.ValidateAll(); err != nil {
					t.Errorf("invalid retry policy: %v", err)
				}
			}
		})
	}
}
