package allowlist

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

func TestKindString(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		want string
	}{
		{KindInvalid, "invalid_target"},
		{KindTarget, "target_forbidden"},
		{KindOrigin, "origin_forbidden"},
		{Kind(0), "unknown"},
	} {
		t.Run(c.want, func(t *testing.T) {
			if got := c.kind.String(); got != c.want {
				t.Errorf("Kind(%d).String() = %q, want %q", c.kind, got, c.want)
			}
		})
	}
}

// The server finds the *Error through the wrapping done by net and net/http.
func TestErrorSurvivesWrapping(t *testing.T) {
	p := mustPolicy(t, Config{})
	err := fmt.Errorf("dial tcp: %w", p.CheckAddr(netip.MustParseAddrPort("127.0.0.1:80")))
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTarget || e.Error() != e.Reason {
		t.Fatalf("errors.As(%v) = %+v", err, e)
	}
	if e.Reason != "target resolves to a private address (loopback)" {
		t.Errorf("Reason = %q", e.Reason)
	}
}
