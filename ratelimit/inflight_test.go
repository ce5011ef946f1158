package ratelimit

import (
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseConcurrency(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"64", 64, false},
		{" 1 ", 1, false},
		{"off", 0, false},
		{"OFF", 0, false},
		{"1048576", MaxConcurrency, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"1048577", 0, true},
		{"many", 0, true},
		{"", 0, true},
		{"6.5", 0, true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseConcurrency(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseConcurrency(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestTakeConcurrency holds requests in flight, one after the other, and
// checks which cap refuses each; nothing is released until the end, when
// every count must be back at zero.
func TestTakeConcurrency(t *testing.T) {
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	v6a, v6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	key := func(client netip.Addr, name string) Request {
		return Request{Client: client, Origin: "https://a.example", Key: name}
	}
	type step struct {
		req       Request
		refusedBy string // "" admitted
	}
	for _, tt := range []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"client cap", Config{ClientConcurrency: 2}, []step{
			{Request{Client: a}, ""}, {Request{Client: a, Origin: "https://x.example"}, ""},
			{Request{Client: a}, LimitClient}, {Request{Client: b}, ""},
		}},
		{"IPv6 clients share their /64", Config{ClientConcurrency: 1}, []step{
			{Request{Client: v6a}, ""}, {Request{Client: v6b}, LimitClient},
		}},
		{"origin cap across clients, by origin key", Config{OriginConcurrency: 2}, []step{
			{Request{Client: a, Origin: "https://a.example"}, ""}, {Request{Client: b, Origin: "http://A.example"}, ""},
			{Request{Client: c, Origin: "https://a.example:443"}, LimitOrigin}, {Request{Client: c, Origin: "https://b.example"}, ""},
			{Request{Client: c}, ""},
		}},
		{"invalid origins share one place", Config{OriginConcurrency: 1}, []step{
			{Request{Client: a, Origin: "not an origin"}, ""}, {Request{Client: b, Origin: "also not"}, LimitOrigin},
		}},
		{"exempt origins are not capped", Config{OriginConcurrency: 1, Exempt: exemptOf(t, "a.example")}, []step{
			{Request{Client: a, Origin: "https://a.example"}, ""}, {Request{Client: b, Origin: "https://a.example"}, ""},
		}},
		{"a key replaces the origin, not the client", Config{ClientConcurrency: 3, OriginConcurrency: 2}, []step{
			{key(a, "team"), ""}, {key(b, "team"), ""}, {key(c, "team"), LimitKey},
			{Request{Client: a, Origin: "https://a.example"}, ""}, {key(a, "other"), ""}, {key(a, "other"), LimitClient},
		}},
		{"a refusal by the origin cap holds nothing", Config{ClientConcurrency: 2, OriginConcurrency: 1}, []step{
			{Request{Client: a, Origin: "https://a.example"}, ""}, {Request{Client: a, Origin: "https://a.example"}, LimitOrigin},
			{Request{Client: a, Origin: "https://b.example"}, ""},
		}},
		{"off", Config{}, []step{
			{Request{Client: a, Origin: "https://a.example"}, ""}, {Request{Client: a, Origin: "https://a.example"}, ""},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLimiter(t, tt.cfg)
			var held []Result
			for i, s := range tt.steps {
				res := l.Take(t.Context(), s.req, time.Now())
				if res.RefusedBy != s.refusedBy || res.ConcurrencyLimited != (s.refusedBy != "") {
					t.Fatalf("step %d (%+v): refused by %q (concurrency %v), want %q", i, s.req, res.RefusedBy, res.ConcurrencyLimited, s.refusedBy)
				}
				if !res.Allowed() {
					h := http.Header{}
					res.SetHeaders(h)
					if h.Get("Retry-After") != "1" {
						t.Errorf("step %d: Retry-After = %q, want 1", i, h.Get("Retry-After"))
					}
					continue
				}
				held = append(held, res)
			}
			for _, res := range held {
				res.Release()
			}
			for _, limit := range heldLabels {
				if n := l.InFlight(limit); n != 0 {
					t.Errorf("InFlight(%s) = %d after every release, want 0", limit, n)
				}
			}
			for i := range l.inFlight.shards {
				if n := len(l.inFlight.shards[i].m); n != 0 {
					t.Errorf("shard %d keeps %d entries after every release", i, n)
				}
			}
		})
	}
}

// TestTakeConcurrencyRateRefusalReleases: a request the rate limit refuses
// gives its places in flight back at once.
func TestTakeConcurrencyRateRefusalReleases(t *testing.T) {
	l := newTestLimiter(t, Config{Origin: Limit{Requests: 1, Window: time.Minute}, ClientConcurrency: 5, OriginConcurrency: 5})
	req := Request{Client: netip.MustParseAddr("192.0.2.1"), Origin: "https://a.example"}
	first := l.Take(t.Context(), req, time.Now())
	second := l.Take(t.Context(), req, time.Now())
	if !first.Allowed() || second.RefusedBy != LimitOrigin || second.ConcurrencyLimited {
		t.Fatalf("first %+v, second %+v; want the rate limit to refuse the second", first, second)
	}
	if got := l.InFlight(LimitClient); got != 1 {
		t.Errorf("InFlight(client) = %d with one request held, want 1", got)
	}
	first.Release()
	if got := l.InFlight(LimitClient) + l.InFlight(LimitOrigin); got != 0 {
		t.Errorf("%d places still held", got)
	}
}

// TestTakeConcurrencyParallel: many goroutines taking and releasing places
// never hold more than the cap, and leave nothing held. Bounded: 8 workers,
// 200 takes each.
func TestTakeConcurrencyParallel(t *testing.T) {
	const limit = 3
	l := newTestLimiter(t, Config{ClientConcurrency: limit})
	req := Request{Client: netip.MustParseAddr("192.0.2.1")}
	var inside, peak, refused atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				res := l.Take(t.Context(), req, time.Now())
				if !res.Allowed() {
					refused.Add(1)
					continue
				}
				n := inside.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				runtime.Gosched() // stay inside a moment, so the others meet the cap
				inside.Add(-1)
				res.Release()
			}
		})
	}
	wg.Wait()
	if peak.Load() > limit {
		t.Errorf("%d requests were in flight at once, over the cap of %d", peak.Load(), limit)
	}
	if n := l.InFlight(LimitClient); n != 0 {
		t.Errorf("InFlight = %d after every release", n)
	}
	t.Logf("peak %d, refused %d of 1600", peak.Load(), refused.Load())
}

func TestConfigValidateConcurrency(t *testing.T) {
	for _, cfg := range []Config{{ClientConcurrency: -1}, {OriginConcurrency: MaxConcurrency + 1}} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "concurrency") {
			t.Errorf("Validate(%+v) = %v, want a concurrency error", cfg, err)
		}
	}
}

// FuzzParseConcurrency: whatever is accepted is off or a cap in range that
// reads back as itself.
func FuzzParseConcurrency(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseConcurrency(s)
		if err != nil {
			return
		}
		if n == 0 {
			if !strings.EqualFold(strings.TrimSpace(s), "off") {
				t.Fatalf("ParseConcurrency(%q) = off", s)
			}
			return
		}
		if n < 1 || n > MaxConcurrency {
			t.Fatalf("ParseConcurrency(%q) = %d, out of range", s, n)
		}
		if again, err := ParseConcurrency(strconv.Itoa(n)); err != nil || again != n {
			t.Fatalf("ParseConcurrency(%q) = %d, which reads back as %d, %v", s, n, again, err)
		}
	})
}
