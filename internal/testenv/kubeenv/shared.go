package kubeenv

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Shared is one Env for all tests of a package, started by the first test
// that asks for it and stopped by Run once every test is done. See the
// package documentation for the TestMain pattern.
type Shared struct {
	names []string

	once    sync.Once
	env     *Env
	dir     string
	missing error // binaries not found: skip (or fail under REQUIRE)
	err     error // start failed: every test using the Env fails
}

// NewShared declares a shared Env with one apiserver per name; nothing
// starts until the first Env call.
func NewShared(names ...string) *Shared {
	return &Shared{names: names}
}

// Env returns the shared Env, starting it on first use. Like Start it skips
// t when the binaries are missing (fails it under CAUSEWAY_REQUIRE_E2E=1);
// when starting failed, every caller fails with that error.
func (s *Shared) Env(t testing.TB) *Env {
	t.Helper()
	s.once.Do(func() {
		bins, err := FindBinaries()
		if err != nil {
			s.missing = err
			return
		}
		if s.dir, err = os.MkdirTemp("", "kubeenv-"); err != nil {
			s.err = err
			return
		}
		if s.env, s.err = New(s.dir, bins, s.names...); s.err == nil {
			t.Logf("kubeenv: shared etcd and %d kube-apiservers %v ready in %v",
				len(s.names), s.names, s.env.StartupTime.Round(time.Millisecond))
		}
	})
	if s.missing != nil {
		SkipOrFail(t, "%v", s.missing)
	}
	if s.err != nil {
		t.Fatalf("kubeenv: shared env: %v", s.err)
	}
	return s.env
}

// Run runs the tests, then stops the Env if a test started it. Its files
// are removed when the tests passed and kept (path printed) for the logs
// when they did not. Use it as os.Exit(shared.Run(m)) in TestMain.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	if err := s.Close(code == 0); err != nil {
		fmt.Fprintf(os.Stderr, "kubeenv: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Close stops the Env (if started) and, when removeFiles, deletes its
// directory; otherwise it prints where the logs are. Run calls it; it is
// exported for a TestMain that needs its own order of teardown.
func (s *Shared) Close(removeFiles bool) error {
	if s.env == nil {
		return nil
	}
	err := s.env.Close()
	if removeFiles {
		return errors.Join(err, os.RemoveAll(s.dir))
	}
	fmt.Fprintf(os.Stderr, "kubeenv: logs kept in %s\n", s.dir)
	return err
}
