package usage

import (
	"sync"
	"testing"
	"time"
)

// BenchmarkRecord is the request path's whole cost of usage: a lock and a
// map update, beside the reference of a bare mutex-guarded counter.
func BenchmarkRecord(b *testing.B) {
	b.Run("ledger", func(b *testing.B) {
		l, err := New(Config{FlushInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		now := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			l.Record("web-team", now, 1234, "")
		}
	})
	b.Run("reference", func(b *testing.B) {
		var mu sync.Mutex
		counts := map[string]int64{}
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			counts["web-team"]++
			mu.Unlock()
		}
	})
}
