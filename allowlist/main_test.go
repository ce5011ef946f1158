package allowlist

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// mustPolicy builds a Policy or fails the test.
func mustPolicy(t testing.TB, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return p
}

// asError extracts the package's *Error, failing the test for any other non-nil error.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *allowlist.Error", err, err)
	}
	return e
}

// deniedClass returns the class in parentheses of an address refusal ("loopback",
// "loopback via 6to4"), "port" or "self" for those refusals, and "" for nil.
func deniedClass(t testing.TB, err error) string {
	t.Helper()
	e := asError(t, err)
	switch {
	case e == nil:
		return ""
	case e.Kind != KindTarget:
		t.Fatalf("refusal %q has kind %v, want %v", e.Reason, e.Kind, KindTarget)
	case strings.Contains(e.Reason, "port"):
		return "port"
	case strings.Contains(e.Reason, "proxy itself"):
		return "self"
	}
	i, j := strings.IndexByte(e.Reason, '('), strings.LastIndexByte(e.Reason, ')')
	if i < 0 || j < i {
		return e.Reason
	}
	return e.Reason[i+1 : j]
}
