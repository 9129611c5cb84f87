package e2eclient

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// causewayBin is the binary TestMain built, empty when Envoy is missing
// (the tests then skip or fail through e2eutil.RequireEnvoy).
var causewayBin string

// TestMain builds ./cmd/causeway once and holds the machine-wide
// end-to-end lock for the whole run: the topology uses fixed addresses,
// ports and a fixed netns subnet. After a verbose run it prints every
// test's figures as one table.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := e2eutil.FindEnvoy(); err == nil {
		bin, done, err := e2eutil.LockAndBuild("e2eclient", 10*time.Minute)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2eclient: %v\n", err)
			return 1
		}
		defer done()
		causewayBin = bin
	}
	code := m.Run()
	if table := figureTable(); table != "" && testing.Verbose() {
		fmt.Printf("e2eclient figures:\n%s", table)
	}
	return code
}

// figure is one test's outcome, for the issue note.
type figure struct {
	test             string
	requests, failed int
	notes            string
}

var figures struct {
	sync.Mutex
	rows []figure
}

// record keeps t's figures and logs them.
func record(t *testing.T, requests, failed int, format string, args ...any) {
	f := figure{test: t.Name(), requests: requests, failed: failed, notes: fmt.Sprintf(format, args...)}
	t.Logf("figures: %d requests, %d failed; %s", f.requests, f.failed, f.notes)
	figures.Lock()
	defer figures.Unlock()
	figures.rows = append(figures.rows, f)
}

func figureTable() string {
	figures.Lock()
	defer figures.Unlock()
	var b strings.Builder
	for _, f := range figures.rows {
		fmt.Fprintf(&b, "  %-58s %6d req %4d failed  %s\n", f.test, f.requests, f.failed, f.notes)
	}
	return b.String()
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
