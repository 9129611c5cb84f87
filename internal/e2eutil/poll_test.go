package e2eutil

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	for _, tc := range []struct {
		name         string
		succeedAt    int // attempt that returns nil; 0 never
		wantAttempts int
		wantErr      string
	}{
		{"first try", 1, 1, ""},
		{"third try", 3, 3, ""},
		// 100 ms at 20 ms: at most 6 attempts, then the last error.
		{"never", 0, 6, "last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			start := time.Now()
			err := Eventually(100*time.Millisecond, 20*time.Millisecond, func() error {
				n++
				if n == tc.succeedAt {
					return nil
				}
				return fmt.Errorf("attempt %d", n)
			})
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v, want about 100ms at most", took)
			}
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tc.wantErr != "" && (err == nil || err.Error() != fmt.Sprintf("attempt %d", n)) {
				t.Fatalf("err = %v, want the last attempt's (attempt %d)", err, n)
			}
			if tc.succeedAt == 0 && (n > tc.wantAttempts || n < 2) || tc.succeedAt != 0 && n != tc.wantAttempts {
				t.Errorf("%d attempts, want %d", n, tc.wantAttempts)
			}
		})
	}
	if err := Eventually(50*time.Millisecond, 10*time.Millisecond, func() error { return errors.New("x") }); err == nil {
		t.Error("Eventually of an always failing fn returned nil")
	}
}
