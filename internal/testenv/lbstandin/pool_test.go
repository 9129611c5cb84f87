package lbstandin

import (
	"net/netip"
	"strings"
	"testing"
)

func TestPool(t *testing.T) {
	p, err := newPool(netip.MustParsePrefix("127.0.81.0/30"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		op, key, want, wantErr string
	}{
		{"get", "a", "127.0.81.1", ""},
		{"get", "b", "127.0.81.2", ""},
		{"get", "a", "127.0.81.1", ""}, // stable
		{"get", "c", "", "exhausted"},  // .0 network, .3 broadcast
		{"release", "a", "", ""},
		{"get", "c", "127.0.81.1", ""},
		{"release", "nobody", "", ""},
		{"get", "b", "127.0.81.2", ""},
	}
	for i, s := range steps {
		if s.op == "release" {
			p.release(s.key)
			continue
		}
		got, err := p.get(s.key)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Fatalf("step %d get(%s): got %v, %v; want error containing %q", i, s.key, got, err, s.wantErr)
			}
			continue
		}
		if err != nil || got.String() != s.want {
			t.Fatalf("step %d get(%s): got %v, %v; want %s", i, s.key, got, err, s.want)
		}
	}
}

func TestNewPoolRejects(t *testing.T) {
	for _, tc := range []struct{ prefix, wantErr string }{
		{"::1/120", "IPv4"},
		{"127.0.81.0/31", "too small"},
	} {
		if _, err := newPool(netip.MustParsePrefix(tc.prefix)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("newPool(%s): got %v, want error containing %q", tc.prefix, err, tc.wantErr)
		}
	}
	if _, err := newPool(netip.Prefix{}); err == nil {
		t.Error("newPool(invalid prefix): got no error")
	}
}
