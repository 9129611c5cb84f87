package main

import (
	"slices"
	"testing"
)

// TestServeEnv: GOMEMLIMIT reaches serve only when set, never inherited.
func TestServeEnv(t *testing.T) {
	env := []string{"A=1", "GOMEMLIMIT=1GiB", "B=2"}
	if got := serveEnv(env, ""); !slices.Equal(got, []string{"A=1", "B=2"}) {
		t.Errorf("no limit: %q", got)
	}
	if got := serveEnv(env, "400MiB"); !slices.Equal(got, []string{"A=1", "B=2", "GOMEMLIMIT=400MiB"}) {
		t.Errorf("limit: %q", got)
	}
}
