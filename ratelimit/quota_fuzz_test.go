package ratelimit

import (
	"context"
	"testing"
	"time"
)

// FuzzQuotaMemoryMatchesRedis: the in-memory quota counter (used without
// Redis and as its fallback) and the Redis script decide every request
// alike: the same admissions, the same refusing quota or rate, the same
// counts, across day and month ends. Each input byte is one step: a
// response's bytes, or a request after some hours.
func FuzzQuotaMemoryMatchesRedis(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte{3, 3, 3, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{4, 9, 14, 19, 24, 29, 34, 39, 44, 49})
	f.Add([]byte{255, 254, 253, 252, 251, 250})
	f.Fuzz(func(t *testing.T, steps []byte) {
		if len(steps) > 64 {
			steps = steps[:64]
		}
		mem, red := quotaLimiter(t, false), quotaLimiter(t, true)
		req := Request{Key: uniqueKey("fuzz"), KeyLimit: Limit{Requests: 4, Window: time.Hour},
			KeyQuota: Quota{Daily: 3, Monthly: 7, MonthlyBytes: 1000}}
		now := time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)
		for i, b := range steps {
			if b%4 == 3 {
				for _, l := range []*Limiter{mem, red} {
					l.CountBytes(req.Key, req.KeyQuota, int64(b)*4, now)
				}
				red.flushBytes(context.Background())
				continue
			}
			now = now.Add(time.Duration(b%5) * 2 * time.Hour)
			a, r := mem.Take(context.Background(), req, now), red.Take(context.Background(), req, now)
			a.Release()
			r.Release()
			if a.Allowed() != r.Allowed() || a.RefusedBy != r.RefusedBy || a.Quota != r.Quota || a.qUsed != r.qUsed ||
				a.Decision.Remaining != r.Decision.Remaining {
				t.Fatalf("step %d at %v: memory %v %q %+v %v, redis %v %q %+v %v", i, now,
					a.Allowed(), a.RefusedBy, a.Quota, a.qUsed, r.Allowed(), r.RefusedBy, r.Quota, r.qUsed)
			}
		}
		mu, _ := mem.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now)
		ru, err := red.QuotaStatus(context.Background(), req.Key, req.KeyQuota, now)
		if err != nil || len(mu) != len(ru) {
			t.Fatalf("QuotaStatus: memory %+v, redis %+v %v", mu, ru, err)
		}
		for i := range mu {
			if mu[i] != ru[i] {
				t.Errorf("QuotaStatus %s: memory %+v, redis %+v", mu[i].Name, mu[i], ru[i])
			}
		}
	})
}
