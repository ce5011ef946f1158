package cache

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkHit is the cache's share of a hit, lookup to written response,
// from memory and from Redis (LocalTTL of a nanosecond keeps nothing in
// memory, so every lookup goes to Redis).
func BenchmarkHit(b *testing.B) {
	for _, tier := range []string{TierMemory, TierRedis} {
		b.Run(tier, func(b *testing.B) {
			cfg := DefaultConfig()
			opts := Options{}
			if tier == TierRedis {
				cfg.RedisPrefix = "bench:" + b.Name() + ":"
				cfg.LocalTTL = time.Nanosecond
				opts.Redis = redisClient(b, sharedRedisURL)
			}
			c := newCache(b, cfg, opts)
			up := newUpstream(b, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, strings.Repeat("x", 1024))
			})
			proxy := newProxy(b, c, up.URL)
			fetch(b, http.MethodGet, proxy.URL+"/bench")
			header := http.Header{"Accept": {"*/*"}, "Origin": {"https://app.example"}}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				tx := c.Lookup(b.Context(), Request{Method: http.MethodGet, URL: up.URL + "/bench", Header: header})
				resp := tx.Response()
				if resp == nil {
					b.Fatal("miss")
				}
				clear(w.h)
				_ = resp.Write(w)
				tx.Done()
			}
		})
	}
}
