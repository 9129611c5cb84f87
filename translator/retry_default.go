package translator

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previousprioritiesv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/priority/previous_priorities/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Default retries: what a forwarding route retries when its rule says
// nothing about retries (no retry, no timeouts.backendRequest). They cover
// the failures that happen while traffic moves between clusters: an
// east-west gateway that has just lost its endpoints closes the TLS
// connection a gateway opens to it (its listener proxies TCP, so there is
// no 503 to retry), and a connection in use may be reset before it
// answered. Only failures without any byte of a response are retried:
//   - connect-failure: the connection (TCP or TLS) could not be made;
//   - refused-stream: an HTTP/2 backend refused the stream unprocessed;
//   - reset: the connection was closed or reset before any response byte.
//
// Status codes are not retried (a backend's 503 is its answer; outlier
// detection counts it). reset can repeat a request the backend received
// before it died; reset-before-request would not, but it misses a reset
// after the request went out, which is exactly what a gateway sees when
// the east-west gateway's backend connection fails. A rule that must not
// be retried says retry: {attempts: 0}.
//
// Retries go to other hosts (previous_hosts) and, when the destination has
// priorities, to the next priority (previous_priorities: the tried
// priorities are left out of the next attempt), so a retry does not pick
// the cluster that just failed. They are bounded: defaultRetries retries,
// waiting from defaultRetryBackoffBase up to defaultRetryBackoffMax, all
// within the route timeout. There is no per-try timeout: the default must
// not cut a slow but healthy answer short.
const (
	defaultRetryOn          = retryOnConnectionErrors
	defaultRetries          = 2
	defaultRetryBackoffBase = 25 * time.Millisecond
	defaultRetryBackoffMax  = 250 * time.Millisecond
	// defaultPriorityUpdateFrequency 1 leaves every tried priority out of
	// the very next attempt.
	defaultPriorityUpdateFrequency = 1
)

// maxConcurrentRetries is the cluster circuit breaker on retries in
// flight. Envoy's default, 3, drops the retries of a burst: when an
// east-west gateway goes away under a gateway that has requests queued (a
// gateway starved of CPU), they all fail at once, and all but 3 would fail
// for good. Each request retries at most defaultRetries times (or what its
// rule says), so this bounds nothing that is not bounded already; 1024 is
// Envoy's default limit on requests in flight per cluster.
const maxConcurrentRetries = 1024

// retryCircuitBreakers lets every request in flight retry at once.
func retryCircuitBreakers() *clusterv3.CircuitBreakers {
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		Priority:   corev3.RoutingPriority_DEFAULT,
		MaxRetries: wrapperspb.UInt32(maxConcurrentRetries),
	}}}
}

// Envoy's retry extension names.
const (
	previousHostsPredicateName = "envoy.retry_host_predicates.previous_hosts"
	previousPrioritiesName     = "envoy.retry_priorities.previous_priorities"
)

// defaultRetryPolicy is every gateway virtual host's retry policy: the
// routes of rules without their own retry settings use it. Every virtual
// host shares the one message (building it per virtual host was a tenth of
// a large gateway's allocations): never change it in place.
func defaultRetryPolicy() *routev3.RetryPolicy { return sharedDefaultRetryPolicy }

var sharedDefaultRetryPolicy = newDefaultRetryPolicy()

func newDefaultRetryPolicy() *routev3.RetryPolicy {
	return &routev3.RetryPolicy{
		RetryOn:    defaultRetryOn,
		NumRetries: wrapperspb.UInt32(defaultRetries),
		RetryBackOff: &routev3.RetryPolicy_RetryBackOff{
			BaseInterval: durationpb.New(defaultRetryBackoffBase),
			MaxInterval:  durationpb.New(defaultRetryBackoffMax),
		},
		RetryHostPredicate:            previousHostsPredicate(),
		HostSelectionRetryMaxAttempts: hostSelectionRetryAttempts,
		RetryPriority: &routev3.RetryPolicy_RetryPriority{
			Name: previousPrioritiesName,
			ConfigType: &routev3.RetryPolicy_RetryPriority_TypedConfig{TypedConfig: typedAny(
				&previousprioritiesv3.PreviousPrioritiesConfig{UpdateFrequency: defaultPriorityUpdateFrequency})},
		},
	}
}
