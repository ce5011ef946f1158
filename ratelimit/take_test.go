package ratelimit

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestTake drives the limiter as the server's pipeline does: one Take per
// request, headers from the Result.
func TestTake(t *testing.T) {
	l := newTestLimiter(t, Config{Origin: Limit{Requests: 2, Window: time.Minute}, Client: Limit{Requests: 3, Window: time.Minute}})
	now := time.Unix(1_700_000_000, 0)
	client := netip.MustParseAddr("192.0.2.7")
	tests := []struct {
		name      string
		req       Request
		allowed   bool
		refusedBy string
		remaining string
	}{
		{"first from a.example", Request{Client: client, Origin: "https://a.example"}, true, "", "1"},
		{"second from a.example", Request{Client: client, Origin: "https://a.example"}, true, "", "0"},
		{"third: the origin limit refuses", Request{Client: client, Origin: "https://a.example"}, false, LimitOrigin, "0"},
		{"another origin: the client limit refuses", Request{Client: client, Origin: "https://b.example"}, false, LimitClient, "0"},
		{"a key counts alone", Request{Client: client, Origin: "https://a.example", Key: "team", KeyLimit: Limit{Requests: 5, Window: time.Minute}}, true, "", "4"},
		{"an off key limit counts nothing", Request{Client: client, Key: "free"}, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := l.Take(t.Context(), tt.req, now)
			if res.Allowed() != tt.allowed || res.RefusedBy != tt.refusedBy {
				t.Fatalf("Take = allowed %v by %q, want allowed %v by %q", res.Allowed(), res.RefusedBy, tt.allowed, tt.refusedBy)
			}
			h := http.Header{}
			res.SetHeaders(h)
			if got := h.Get("X-RateLimit-Remaining"); got != tt.remaining {
				t.Errorf("X-RateLimit-Remaining = %q, want %q", got, tt.remaining)
			}
			if wantRetry := !tt.allowed; (h.Get("Retry-After") != "") != wantRetry {
				t.Errorf("Retry-After = %q, want one: %v", h.Get("Retry-After"), wantRetry)
			}
		})
	}
}

// TestTakeUnavailable: fail closed without Redis answers Unavailable with
// Retry-After: 1 and no limit headers.
func TestTakeUnavailable(t *testing.T) {
	l := newTestLimiter(t, Config{Client: Limit{Requests: 3, Window: time.Minute}, FailMode: FailClosed, RedisURL: "redis://127.0.0.1:1"})
	res := l.Take(t.Context(), Request{Client: netip.MustParseAddr("192.0.2.7")}, time.Now())
	h := http.Header{}
	res.SetHeaders(h)
	if !res.Unavailable || res.Allowed() || h.Get("Retry-After") != "1" || h.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("Take with Redis down, fail closed = %+v, headers %v; want unavailable, Retry-After: 1", res, h)
	}
}
