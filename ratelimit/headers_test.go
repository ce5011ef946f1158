package ratelimit

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestIETFHeaders: RateLimit-Policy lists every limit a request was counted
// against, RateLimit what is left of each and when it resets, for keyless,
// keyed and quota requests, admitted and refused; X-RateLimit-* stay the
// tightest rate's.
// uniqueAddr is a client address no other test counts under: its own /64.
func uniqueAddr() netip.Addr {
	n := keySeq.Add(1)
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 15: 1})
}

func TestIETFHeaders(t *testing.T) {
	now := at(t, "2026-12-02T09:45:00Z") // 15 min to the hour, 14h15m to midnight
	hourly := Limit{Requests: 3, Window: time.Hour}
	type step struct {
		req                    Request
		policy, state, xRemain string
		retryAfter             string
	}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{name: "client and origin", cfg: Config{Client: Limit{Requests: 5, Window: time.Minute}, Origin: hourly},
			steps: []step{{
				req:    Request{Origin: "https://a.example"},
				policy: `"client";q=5;w=60, "origin";q=3;w=3600`, state: `"client";r=4;t=60, "origin";r=2;t=900`, xRemain: "2",
			}, {
				req:    Request{},
				policy: `"client";q=5;w=60`, state: `"client";r=3;t=60`, xRemain: "3",
			}}},
		{name: "origin only", cfg: Config{Origin: hourly},
			steps: []step{{
				req:    Request{Origin: "https://a.example"},
				policy: `"origin";q=3;w=3600`, state: `"origin";r=2;t=900`, xRemain: "2",
			}}},
		{name: "key without quotas", cfg: Config{Keys: true},
			steps: []step{{
				req:    Request{Key: "k1", KeyLimit: hourly},
				policy: `"key";q=3;w=3600`, state: `"key";r=2;t=900`, xRemain: "2",
			}}},
		{name: "key with quotas", cfg: Config{Keys: true},
			steps: []step{{
				req:    Request{Key: "k2", KeyLimit: hourly, KeyQuota: Quota{Daily: 1, Monthly: 50, MonthlyBytes: 1 << 30}},
				policy: `"key";q=3;w=3600, "daily";q=1;w=86400, "monthly";q=50;w=2678400, "monthly-bytes";q=1073741824;qu="content-bytes";w=2678400`,
				state:  `"key";r=2;t=900, "daily";r=0;t=51300, "monthly";r=49;t=2556900, "monthly-bytes";r=1073741824;t=2556900`, xRemain: "2",
			}, {
				// Refused by the daily quota: the key's rate shown as is,
				// uncounted; Retry-After to midnight.
				req:    Request{Key: "k2", KeyLimit: hourly, KeyQuota: Quota{Daily: 1, Monthly: 50, MonthlyBytes: 1 << 30}},
				policy: `"key";q=3;w=3600, "daily";q=1;w=86400, "monthly";q=50;w=2678400, "monthly-bytes";q=1073741824;qu="content-bytes";w=2678400`,
				state:  `"key";r=2;t=900, "daily";r=0;t=51300, "monthly";r=49;t=2556900, "monthly-bytes";r=1073741824;t=2556900`, xRemain: "2",
				retryAfter: "51300",
			}}},
		{name: "quotas without a rate", cfg: Config{Keys: true},
			steps: []step{{
				req:    Request{Key: "k3", KeyQuota: Quota{Monthly: 2}},
				policy: `"monthly";q=2;w=2678400`, state: `"monthly";r=1;t=2556900`,
			}}},
	}
	for _, b := range quotaBackends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				cfg := tt.cfg
				if b.redis {
					cfg.RedisURL = sharedRedisURL
				}
				l := newTestLimiter(t, cfg)
				suffix, client := uniqueKey(""), uniqueAddr()
				for i, s := range tt.steps {
					req := s.req
					if req.Key != "" {
						req.Key += suffix
					}
					if req.Origin != "" {
						req.Origin = "https://o" + suffix + ".example"
					}
					req.Client = client
					res := l.Take(context.Background(), req, now)
					res.Release()
					h := http.Header{}
					res.SetHeaders(h)
					if got := h.Get("RateLimit-Policy"); got != s.policy {
						t.Errorf("step %d RateLimit-Policy:\n got %s\nwant %s", i, got, s.policy)
					}
					if got := h.Get("RateLimit"); got != s.state {
						t.Errorf("step %d RateLimit:\n got %s\nwant %s", i, got, s.state)
					}
					if got := h.Get("X-RateLimit-Remaining"); got != s.xRemain {
						t.Errorf("step %d X-RateLimit-Remaining %q, want %q", i, got, s.xRemain)
					}
					if got := h.Get("Retry-After"); got != s.retryAfter {
						t.Errorf("step %d Retry-After %q, want %q", i, got, s.retryAfter)
					}
				}
			})
		}
	}
}
