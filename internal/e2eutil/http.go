package e2eutil

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
)

// FreePort returns a TCP port free on 127.0.0.1 right now, for a process
// the test starts next.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

var okClient = &http.Client{Timeout: time.Second}

// HTTPOK GETs url with a 1 s timeout; anything but 200 is an error.
func HTTPOK(url string) error { return HTTPOKWith(okClient, url) }

// HTTPOKWith is HTTPOK with the caller's client (a source address, say).
func HTTPOKWith(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// GetBackend sends req and decodes the sample backend's report; anything
// but a 200 carrying one (a proxy's 503, say) is an error quoting the body.
func GetBackend(c *http.Client, req *http.Request) (backend.Response, error) {
	var r backend.Response
	resp, err := c.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, err
	}
	r, err = BackendAnswer(resp.StatusCode, body)
	if err != nil {
		return r, fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	return r, nil
}

// BackendAnswer decodes the sample backend's report from an answer's
// status and body (a LoadSpec.Classify's arguments); anything but a 200
// carrying one is an error quoting the body.
func BackendAnswer(status int, body []byte) (backend.Response, error) {
	var r backend.Response
	if status != http.StatusOK {
		return r, fmt.Errorf("%d %s: %.200s", status, http.StatusText(status), body)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("not a backend answer: %v: %.200s", err, body)
	}
	return r, nil
}
