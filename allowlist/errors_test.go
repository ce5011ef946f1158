package allowlist

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
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
		{KindNotATarget, "not_found"},
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

// Every refusal carries the rule behind it as a Cause, so callers never read Reason.
func TestRefusalCauses(t *testing.T) {
	p := mustPolicy(t, Config{
		AllowOrigins: []string{"https://app.example"},
		DenyOrigins:  []string{"https://evil.app.example"},
		DenyTargets:  []string{"denied.example"},
		AllowPorts:   []uint16{443},
		SelfAddrs:    []netip.AddrPort{netip.MustParseAddrPort("203.0.113.9:443")},
	})
	open := mustPolicy(t, Config{AllowTargets: []string{"only.example"}})
	target := func(p *Policy, s string) func() error {
		return func() error { return p.CheckTarget(mustURL(t, s)) }
	}
	addr := func(s string) func() error {
		return func() error { return p.CheckAddr(netip.MustParseAddrPort(s)) }
	}
	tests := []struct {
		name  string
		check func() error
		want  Cause
	}{
		{"malformed host", target(p, "https://a..example/"), CauseMalformed},
		{"scheme", target(p, "ftp://a.example/"), CauseScheme},
		{"port", target(p, "https://a.example:8443/"), CausePort},
		{"loopback literal", target(p, "https://127.0.0.1/"), CauseLoopback},
		{"metadata literal", target(p, "https://169.254.169.254/"), CauseMetadata},
		{"metadata via nat64", target(p, "https://[64:ff9b::a9fe:a9fe]/"), CauseMetadata},
		{"private literal", target(p, "https://10.1.2.3/"), CausePrivate},
		{"local name", target(p, "https://printer.local/"), CauseLocalName},
		{"denied target", target(p, "https://denied.example/"), CauseTargetDenied},
		{"target not allowed", target(open, "https://other.example/"), CauseTargetNotAllowed},
		{"self", addr("203.0.113.9:443"), CauseSelf},
		{"resolved loopback", addr("[::1]:443"), CauseLoopback},
		{"network", func() error { return p.Control("udp", "8.8.8.8:443", nil) }, CauseNetwork},
		{"origin missing", func() error { return p.CheckOrigin("") }, CauseOriginMissing},
		{"origin null", func() error { return p.CheckOrigin("null") }, CauseOriginNull},
		{"origin malformed", func() error { return p.CheckOrigin("https://a b") }, CauseOriginMalformed},
		{"origin denied", func() error { return p.CheckOrigin("https://evil.app.example") }, CauseOriginDenied},
		{"origin not allowed", func() error { return p.CheckOrigin("https://other.example") }, CauseOriginNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := asError(t, tt.check())
			if e == nil {
				t.Fatal("allowed")
			}
			if e.Cause != tt.want {
				t.Errorf("Cause = %v (%q), want %v", e.Cause, e.Reason, tt.want)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
