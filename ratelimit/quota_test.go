package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// at is a fixed UTC moment, for tests that inject the clock.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// quotaBackends are the two ways quotas are counted: in memory, and in the
// shared Redis.
var quotaBackends = []struct {
	name  string
	redis bool
}{{"memory", false}, {"redis", true}}

func quotaLimiter(t *testing.T, redis bool) *Limiter {
	t.Helper()
	cfg := Config{Keys: true}
	if redis {
		cfg.RedisURL = sharedRedisURL
	}
	l := newTestLimiter(t, cfg)
	if redis && l.Status() != StatusHealthy {
		t.Fatalf("status %q, want healthy", l.Status())
	}
	return l
}

// TestQuotaRefusesExactlyAtN: each quota admits exactly its number, then
// refuses with RefusedBy quota and the refusing quota's state; a refused
// request counts against nothing. The bytes quota admits while the bytes
// used are below it, so the response that crosses it was served.
func TestQuotaRefusesExactlyAtN(t *testing.T) {
	now := at(t, "2026-12-02T10:00:00Z")
	tests := []struct {
		name   string
		rate   Limit
		quota  Quota
		bytes  int64 // counted after each admitted request
		admits int
		refuse string
		resets string
	}{
		{name: "daily", rate: Limit{Requests: 100, Window: time.Hour}, quota: Quota{Daily: 5, Monthly: 100},
			admits: 5, refuse: QuotaDaily, resets: "2026-12-03T00:00:00Z"},
		{name: "monthly", quota: Quota{Daily: 100, Monthly: 3},
			admits: 3, refuse: QuotaMonthly, resets: "2027-01-01T00:00:00Z"},
		{name: "monthly bytes", rate: Limit{Requests: 100, Window: time.Hour}, quota: Quota{MonthlyBytes: 1000},
			bytes: 300, admits: 4, refuse: QuotaMonthlyBytes, resets: "2027-01-01T00:00:00Z"},
	}
	for _, b := range quotaBackends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				l := quotaLimiter(t, b.redis)
				req := Request{Key: uniqueKey("q"), KeyLimit: tt.rate, KeyQuota: tt.quota}
				for i := range tt.admits {
					res := l.Take(context.Background(), req, now)
					if !res.Allowed() {
						t.Fatalf("request %d refused by %q (%+v), want admitted", i+1, res.RefusedBy, res.Quota)
					}
					res.Release()
					l.CountBytes(req.Key, req.KeyQuota, tt.bytes, now)
				}
				for range 2 { // the second refusal shows the first counted nothing
					res := l.Take(context.Background(), req, now)
					if res.RefusedBy != LimitQuota || res.Quota.Name != tt.refuse || res.Quota.Resets != at(t, tt.resets) ||
						res.Quota.Remaining != 0 {
						t.Fatalf("after %d: RefusedBy %q Quota %+v, want %s used up, resets %s", tt.admits, res.RefusedBy, res.Quota, tt.refuse, tt.resets)
					}
				}
				if tt.bytes > 0 && b.redis {
					l.flushBytes(context.Background())
				}
				uses, err := l.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range uses {
					want := int64(tt.admits)
					if u.Name == QuotaMonthlyBytes {
						want = int64(tt.admits) * tt.bytes
					}
					if u.Used != want || u.Remaining != max(u.Limit-want, 0) {
						t.Errorf("QuotaStatus %s: %+v, want used %d", u.Name, u, want)
					}
				}
			})
		}
	}
}

// TestQuotaSharedByTwoInstances: two Limiters on one Redis share a key's
// quotas exactly: daily 10, seven requests on each, ten admitted; bytes
// counted on one are seen by the other once flushed.
func TestQuotaSharedByTwoInstances(t *testing.T) {
	now := at(t, "2026-12-02T10:00:00Z")
	a, b := quotaLimiter(t, true), quotaLimiter(t, true)
	req := Request{Key: uniqueKey("shared"), KeyLimit: Limit{Requests: 1000, Window: time.Hour}, KeyQuota: Quota{Daily: 10, MonthlyBytes: 500}}
	admitted := 0
	for range 7 {
		for _, l := range []*Limiter{a, b} {
			if res := l.Take(context.Background(), req, now); res.Allowed() {
				admitted++
				res.Release()
			} else if res.RefusedBy != LimitQuota || res.Quota.Name != QuotaDaily {
				t.Fatalf("refused by %q %+v, want the daily quota", res.RefusedBy, res.Quota)
			}
		}
	}
	if admitted != 10 {
		t.Errorf("two instances, daily 10, 14 requests: %d admitted, want exactly 10", admitted)
	}
	a.CountBytes(req.Key, req.KeyQuota, 400, now)
	a.CountBytes(req.Key, req.KeyQuota, 200, now)
	// Unflushed, a's bytes count on a alone.
	if uses, _ := b.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now); uses[1].Used != 0 {
		t.Errorf("b before the flush: %+v, want 0 bytes", uses[1])
	}
	if uses, _ := a.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now); uses[1].Used != 600 {
		t.Errorf("a before the flush: %+v, want its own 600 bytes", uses[1])
	}
	a.flushBytes(context.Background())
	uses, err := b.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now)
	if err != nil || len(uses) != 2 || uses[0].Used != 10 || uses[1].Used != 600 || uses[1].Remaining != 0 {
		t.Fatalf("b after a's flush: %+v %v, want daily 10 used, 600 bytes", uses, err)
	}
	// The bytes key expires an hour past the month's end.
	rdb := testClient(t, sharedRedisURL)
	ttl, err := rdb.PTTL(context.Background(), quotaKey(req.Key, qBytes, 202612)).Result()
	if want := time.Until(at(t, "2027-01-01T01:00:00Z")); err != nil || ttl < want-time.Minute || ttl > want+time.Minute {
		t.Errorf("bytes key TTL %v %v, want about %v", ttl, err, want)
	}
}

// TestQuotaBytesFlushedOnClose: bytes still in the batch reach Redis when
// the Limiter closes.
func TestQuotaBytesFlushedOnClose(t *testing.T) {
	now := time.Now()
	l, err := New(context.Background(), Config{Keys: true, RedisURL: sharedRedisURL})
	if err != nil {
		t.Fatal(err)
	}
	q, key := Quota{MonthlyBytes: 1 << 20}, uniqueKey("close")
	l.CountBytes(key, q, 1234, now)
	l.Close()
	other := quotaLimiter(t, true)
	if uses, err := other.QuotaStatus(context.Background(), key, q, now); err != nil || uses[0].Used != 1234 {
		t.Fatalf("after Close: %+v %v, want 1234 bytes", uses, err)
	}
}

// TestQuotaWindowsRollOver: the daily count starts over at midnight UTC,
// the monthly ones on the first of the month; Retry-After is the seconds
// until then.
func TestQuotaWindowsRollOver(t *testing.T) {
	for _, b := range quotaBackends {
		t.Run(b.name, func(t *testing.T) {
			l := quotaLimiter(t, b.redis)
			req := Request{Key: uniqueKey("roll"), KeyQuota: Quota{Daily: 2, Monthly: 3}}
			steps := []struct {
				at         string
				allowed    bool
				refused    string
				retryAfter string
			}{
				{"2026-12-30T23:59:58Z", true, "", ""},
				{"2026-12-30T23:59:58.5Z", true, "", ""},
				{"2026-12-30T23:59:59.2Z", false, QuotaDaily, "1"}, // 0.8 s, rounded up
				{"2026-12-31T00:00:00Z", true, "", ""},             // a new day: monthly 3 of 3
				{"2026-12-31T00:00:01Z", false, QuotaMonthly, strconv.Itoa(24*3600 - 1)},
				{"2027-01-01T00:00:00Z", true, "", ""},
			}
			for _, s := range steps {
				res := l.Take(context.Background(), req, at(t, s.at))
				h := http.Header{}
				res.SetHeaders(h)
				if res.Allowed() != s.allowed || res.Quota.Name != s.refused || h.Get("Retry-After") != s.retryAfter {
					t.Fatalf("%s: allowed %v by %q Retry-After %q, want %v %q %q", s.at, res.Allowed(), res.Quota.Name,
						h.Get("Retry-After"), s.allowed, s.refused, s.retryAfter)
				}
				res.Release()
			}
		})
	}
}

// TestQuotaAndRateOneScriptCall: with Redis, a keyed request's rate and
// quotas are one round trip, refused or admitted; a key without quotas
// stays one round trip too, and the rate refuses without counting quotas.
func TestQuotaAndRateOneScriptCall(t *testing.T) {
	l := quotaLimiter(t, true)
	trips := &roundTrips{}
	l.rdb.AddHook(trips)
	now := at(t, "2026-12-02T10:00:00Z")
	withQuota := Request{Key: uniqueKey("trips"), KeyLimit: Limit{Requests: 2, Window: time.Hour}, KeyQuota: Quota{Daily: 5, Monthly: 5}}
	plain := Request{Key: uniqueKey("plain"), KeyLimit: Limit{Requests: 2, Window: time.Hour}}
	for i, want := range []string{"", "", LimitKey} {
		for _, req := range []Request{withQuota, plain} {
			before := trips.n.Load()
			res := l.Take(context.Background(), req, now)
			if res.RefusedBy != want {
				t.Fatalf("request %d of %s: refused by %q, want %q", i+1, req.Key, res.RefusedBy, want)
			}
			if n := trips.n.Load() - before; n != 1 {
				t.Errorf("request %d of %s: %d round trips, want 1", i+1, req.Key, n)
			}
			res.Release()
		}
	}
	uses, err := l.QuotaStatus(context.Background(), withQuota.Key, withQuota.KeyQuota, now)
	if err != nil || uses[0].Used != 2 || uses[1].Used != 2 {
		t.Errorf("quotas after a rate refusal: %+v %v, want 2 each (the refused request not counted)", uses, err)
	}
}

// TestQuotaFallback: Redis gone, quotas count in memory per instance
// (FailOpen) or refuse with Unavailable (FailClosed), as the rate limits do.
func TestQuotaFallback(t *testing.T) {
	for _, mode := range []FailMode{FailOpen, FailClosed} {
		t.Run(string(mode), func(t *testing.T) {
			srv := redistest.Dedicated(t)
			l := newTestLimiter(t, Config{Keys: true, RedisURL: srv.URL(), FailMode: mode, probeInterval: time.Hour})
			now := time.Now()
			req := Request{Key: "fallback", KeyQuota: Quota{Daily: 2}}
			if res := l.Take(context.Background(), req, now); !res.Allowed() {
				t.Fatalf("with Redis: refused by %q", res.RefusedBy)
			}
			srv.Stop()
			var got []string
			for range 3 {
				res := l.Take(context.Background(), req, now)
				switch {
				case res.Unavailable:
					got = append(got, "unavailable")
				case res.Allowed():
					got = append(got, "ok")
				default:
					got = append(got, res.RefusedBy)
				}
			}
			want := []string{"ok", "ok", LimitQuota} // a fresh count in memory
			if mode == FailClosed {
				want = []string{"unavailable", "unavailable", "unavailable"}
			}
			if strconv.Quote(join(got)) != strconv.Quote(join(want)) {
				t.Errorf("Redis down, %s: %v, want %v", mode, got, want)
			}
			_, err := l.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now)
			if (err != nil) != (mode == FailClosed) {
				t.Errorf("QuotaStatus with Redis down, %s: %v", mode, err)
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for _, v := range s {
		out += v + ","
	}
	return out
}
