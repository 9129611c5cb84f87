package apiconv

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FieldError is one problem with one field of an object; callers prefix
// the object's kind and name.
type FieldError struct {
	// Field is the JSON path, e.g. "spec.ports[0].number".
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// errs collects FieldErrors.
type errs []FieldError

func (e *errs) add(field, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (e *errs) dnsSubdomain(field, what, s string) {
	if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
		e.add(field, "%q is not a valid %s: %s", s, what, strings.Join(msgs, "; "))
	}
}

func (e *errs) dnsLabel(field, what, s string) {
	if msgs := validation.IsDNS1123Label(s); len(msgs) > 0 {
		e.add(field, "%q is not a valid %s: %s", s, what, strings.Join(msgs, "; "))
	}
}

func (e *errs) port(field string, n int32) {
	if n < 1 || n > 65535 {
		e.add(field, "must be 1-65535, got %d", n)
	}
}

// hosts checks spec.hosts: at least one, each a DNS name, no repeats.
func (e *errs) hosts(hosts []string) {
	if len(hosts) == 0 {
		e.add("spec.hosts", "at least one host is required")
	}
	seen := map[string]bool{}
	for i, h := range hosts {
		field := fmt.Sprintf("spec.hosts[%d]", i)
		e.dnsSubdomain(field, "hostname", h)
		if seen[h] {
			e.add(field, "duplicate host %q", h)
		}
		seen[h] = true
	}
}

// uniquePort checks a port number and that seen does not hold it yet.
func (e *errs) uniquePort(field string, n int32, seen map[int32]bool) {
	e.port(field, n)
	if seen[n] {
		e.add(field, "duplicate port %d", n)
	}
	seen[n] = true
}

func (e *errs) protocol(field, p string) {
	switch p {
	case "", "HTTP", "HTTP2", "GRPC", "H2C":
	default:
		e.add(field, "%q is not supported (use HTTP, HTTP2, GRPC or H2C)", p)
	}
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
