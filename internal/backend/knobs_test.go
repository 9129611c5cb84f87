package backend

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func startTest(t *testing.T) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", Info{Cluster: "cluster-1", Instance: "reviews-1", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fetch GETs path and returns the status, the body and how long it took.
func fetch(t *testing.T, s *Server, path string) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get("http://" + s.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), time.Since(start)
}

// wantIdentity fails unless body is the instance's usual Response.
func wantIdentity(t *testing.T, body string) {
	t.Helper()
	var got Response
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if got.Instance != "reviews-1" || got.Cluster != "cluster-1" || got.Path != "/reviews" {
		t.Errorf("body = %+v, want reviews-1's usual answer", got)
	}
}

func TestKnobsInProcess(t *testing.T) {
	const delay = 300 * time.Millisecond
	for _, tc := range []struct {
		name       string
		set        func(*Server)
		wantStatus int
		wantDelay  bool
	}{
		{"healthy", func(*Server) {}, 200, false},
		{"fail 503", func(s *Server) { s.SetFailStatus(503) }, 503, false},
		{"fail 500", func(s *Server) { s.SetFailStatus(500) }, 500, false},
		{"fail then healthy with 0", func(s *Server) { s.SetFailStatus(503); s.SetFailStatus(0) }, 200, false},
		{"delay", func(s *Server) { s.SetDelay(delay) }, 200, true},
		{"delay and fail", func(s *Server) { s.SetDelay(delay); s.SetFailStatus(502) }, 502, true},
		{"reset", func(s *Server) { s.SetDelay(delay); s.SetFailStatus(503); s.Reset() }, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTest(t)
			tc.set(s)
			status, body, took := fetch(t, s, "/reviews")
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
			wantIdentity(t, body)
			if tc.wantDelay && took < delay {
				t.Errorf("answered after %v, want >= %v", took, delay)
			}
			if !tc.wantDelay && took >= delay {
				t.Errorf("answered after %v, want no delay", took)
			}
			// The probe and the admin path never follow the mode.
			if status, body, took := fetch(t, s, "/healthz"); status != 200 || strings.TrimSpace(body) != "ok" || took >= delay {
				t.Errorf("/healthz = %d %q after %v, want 200 ok at once", status, body, took)
			}
		})
	}
}

func TestModePath(t *testing.T) {
	type step struct {
		query      string
		wantCode   int
		wantMode   modeJSON // reported by ModePath (when wantCode is 200)
		wantStatus int      // then answered by /reviews
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"report", []step{{"", 200, modeJSON{0, "0s"}, 200}}},
		{"status", []step{{"?status=503", 200, modeJSON{503, "0s"}, 503}}},
		{"status then reset", []step{
			{"?status=503", 200, modeJSON{503, "0s"}, 503},
			{"?reset", 200, modeJSON{0, "0s"}, 200},
		}},
		{"delay keeps status", []step{
			{"?status=500", 200, modeJSON{500, "0s"}, 500},
			{"?delay=10ms", 200, modeJSON{500, "10ms"}, 500},
		}},
		{"reset applies before the others", []step{
			{"?status=500&delay=10ms", 200, modeJSON{500, "10ms"}, 500},
			{"?reset&status=502", 200, modeJSON{502, "0s"}, 502},
		}},
		{"bad status changes nothing", []step{
			{"?status=503", 200, modeJSON{503, "0s"}, 503},
			{"?status=99", 400, modeJSON{}, 503},
			{"?status=abc&reset", 400, modeJSON{}, 503},
		}},
		{"bad delay changes nothing", []step{
			{"?delay=-1s", 400, modeJSON{}, 200},
			{"?delay=soon", 400, modeJSON{}, 200},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTest(t)
			for _, st := range tc.steps {
				code, body, _ := fetch(t, s, ModePath+st.query)
				if code != st.wantCode {
					t.Fatalf("%s%s = %d %q, want %d", ModePath, st.query, code, body, st.wantCode)
				}
				if code == 200 {
					var got modeJSON
					if err := json.Unmarshal([]byte(body), &got); err != nil {
						t.Fatalf("%s%s body %q: %v", ModePath, st.query, body, err)
					}
					if diff := cmp.Diff(st.wantMode, got); diff != "" {
						t.Errorf("%s%s mode (-want +got):\n%s", ModePath, st.query, diff)
					}
				} else if !strings.Contains(body, ModePath) {
					t.Errorf("%s%s error %q does not name the path and parameter", ModePath, st.query, body)
				}
				status, body, _ := fetch(t, s, "/reviews")
				if status != st.wantStatus {
					t.Errorf("after %s: /reviews = %d, want %d", st.query, status, st.wantStatus)
				}
				wantIdentity(t, body)
			}
		})
	}
}

// A caller that gives up (a proxy's timeout) must not keep a delayed
// handler, and so Close, waiting for the whole delay.
func TestDelayEndsWhenCallerGivesUp(t *testing.T) {
	s := startTest(t)
	s.SetDelay(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr()+"/reviews", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("request with a 100ms deadline against a 1m delay: %v, want deadline exceeded", err)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v: the abandoned handler kept waiting", took)
	}
}

func TestSetFailStatusRejectsNonsense(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("SetFailStatus(42) did not panic")
		}
	}()
	(&Knobs{}).SetFailStatus(42)
}
