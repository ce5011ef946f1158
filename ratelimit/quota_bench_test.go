package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// BenchmarkKeyedTakeQuota: a keyed request in memory with its rate only,
// and with its rate and all three quotas, headers included; added-ns/op is
// the quotas' cost over the rate-only run of the same benchmark.
func BenchmarkKeyedTakeQuota(b *testing.B) {
	rate := Limit{Requests: MaxRequests, Window: time.Hour}
	names := make([]string, 64)
	for i := range names {
		names[i] = "key-" + strconv.Itoa(i)
	}
	var baseline float64
	run := func(b *testing.B, q Quota) float64 {
		l, err := New(context.Background(), Config{Keys: true})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		h := http.Header{}
		now := time.Now()
		b.ReportAllocs()
		i := 0
		start := time.Now()
		for b.Loop() {
			res := l.Take(context.Background(), Request{Key: names[i%len(names)], KeyLimit: rate, KeyQuota: q}, now)
			res.SetHeaders(h)
			res.Release()
			i++
		}
		perOp := float64(time.Since(start).Nanoseconds()) / float64(i)
		if baseline > 0 {
			b.ReportMetric(perOp-baseline, "added-ns/op")
		}
		return perOp
	}
	b.Run("rate", func(b *testing.B) { baseline = 0; baseline = run(b, Quota{}) })
	b.Run("rate+quotas", func(b *testing.B) {
		run(b, Quota{Daily: unreachedQuota, Monthly: unreachedQuota, MonthlyBytes: unreachedQuota})
	})
}

// unreachedQuota is a quota no benchmark reaches.
const unreachedQuota = 1 << 40
