package conformance

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/yaml"
)

// skipListFile is the reviewed list of conformance tests not run, each with
// its reason.
const skipListFile = "skip.yaml"

// skipList is skip.yaml: {skips: [{test, reason}]}.
type skipList struct {
	Skips []skipEntry `json:"skips"`
}

type skipEntry struct {
	// Test is the suite's ShortName of the test.
	Test string `json:"test"`
	// Reason says why it is skipped: a known Causeway gap (with the issue
	// or file that tracks it) or a limit of the test environment.
	Reason string `json:"reason"`
}

// loadSkipList reads and checks a skip list: unknown keys, entries without
// a test or a reason, duplicates and names the suite does not have are
// errors naming the entry.
func loadSkipList(path string) (skipList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return skipList{}, err
	}
	return parseSkipList(path, data, knownTests())
}

func parseSkipList(path string, data []byte, known map[string]bool) (skipList, error) {
	var l skipList
	if err := yaml.UnmarshalStrict(data, &l); err != nil {
		return skipList{}, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range l.Skips {
		at := fmt.Sprintf("%s: skips[%d]", path, i)
		switch {
		case e.Test == "":
			errs = append(errs, fmt.Errorf("%s: test is empty", at))
		case !known[e.Test]:
			errs = append(errs, fmt.Errorf("%s: test %q is not a test of the conformance suite", at, e.Test))
		case seen[e.Test]:
			errs = append(errs, fmt.Errorf("%s: test %q is listed twice", at, e.Test))
		}
		seen[e.Test] = true
		if strings.TrimSpace(e.Reason) == "" {
			errs = append(errs, fmt.Errorf("%s (%s): reason is empty; every skip says why", at, e.Test))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return skipList{}, err
	}
	return l, nil
}

// Names lists the skipped tests.
func (l skipList) Names() []string {
	out := make([]string, 0, len(l.Skips))
	for _, e := range l.Skips {
		out = append(out, e.Test)
	}
	return out
}

// Reason is why test is skipped, or "" when it is not.
func (l skipList) Reason(test string) string {
	for _, e := range l.Skips {
		if e.Test == test {
			return e.Reason
		}
	}
	return ""
}

// knownTests are the ShortNames of the suite's tests.
func knownTests() map[string]bool {
	out := map[string]bool{}
	for _, t := range tests.ConformanceTests {
		out[t.ShortName] = true
	}
	return out
}
