package chaos

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

// TestMain builds ./cmd/causeway once and, after the run, prints every
// scenario's figures as one table.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := e2eutil.FindEnvoy(); err == nil {
		bins, remove, err := e2eutil.BuildCommands("causeway-chaos-bin-", "causeway")
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
			return 1
		}
		defer remove()
		causewayBin = bins[0]
	}
	code := m.Run()
	if table := figureTable(""); table != "" && testing.Verbose() {
		fmt.Printf("chaos figures (CPU stress on 2 cores, %v/s):\n%s", loadRate, table)
	}
	return code
}

// figure is one scenario's outcome for the issue note.
type figure struct {
	test, scenario   string
	requests, failed int
	notes            string
}

var figures struct {
	sync.Mutex
	rows []figure
}

func record(t *testing.T, scenario string, r e2eutil.LoadResult, notes string) {
	figures.Lock()
	defer figures.Unlock()
	figures.rows = append(figures.rows, figure{test: t.Name(), scenario: scenario, requests: r.Total, failed: r.Failed, notes: notes})
}

// figureTable formats the rows of tests named with prefix.
func figureTable(prefix string) string {
	figures.Lock()
	defer figures.Unlock()
	var b strings.Builder
	for _, f := range figures.rows {
		if strings.HasPrefix(f.test, prefix) {
			fmt.Fprintf(&b, "  %-40s %6d req %4d failed  %s\n", f.scenario, f.requests, f.failed, f.notes)
		}
	}
	return b.String()
}

// logFigures logs the figures of t and its subtests when t ends.
func logFigures(t *testing.T) {
	t.Cleanup(func() {
		if table := figureTable(t.Name()); table != "" {
			t.Logf("figures (CPU stress on 2 cores, %v requests/s):\n%s", loadRate, table)
		}
	})
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
