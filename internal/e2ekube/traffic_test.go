package e2ekube

import (
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// startTraffic sends the chaos suite's load (issue 10) for at most max:
// 50 requests a second through cluster-1's gateway Envoy, each answer
// named by the reviews version that gave it, with every core busy.
func startTraffic(t *testing.T, max time.Duration) *e2eutil.StressedLoad {
	t.Helper()
	return e2eutil.StartStressedLoad(t, e2eutil.LoadSpec{
		URL:      "http://" + gatewayEnvoy.bind + ":8080/reviews/0",
		Host:     "www.example.com",
		Rate:     50,
		Max:      max,
		Timeout:  requestTimeout,
		Classify: classifyReviews,
	})
}

// requestTimeout tells a dropped request from a slow one, so it is
// generous (the chaos suite's, internal/chaos, is the same): a drop shows at once (a reset, a 503) or as no answer at all,
// while on an oversubscribed machine answers can take seconds without
// anything failing (see internal/e2esec's requestTimeout for figures).
const requestTimeout = 5 * time.Second

// classifyReviews accepts a 200 from a reviews backend reached the way its
// cluster requires (expectedPath), named by its version.
func classifyReviews(status int, body []byte) (string, error) {
	r, err := e2eutil.BackendAnswer(status, body)
	if err != nil {
		return "", err
	}
	if err := expectedPath(r); err != nil {
		return "", err
	}
	return r.Version, nil
}
