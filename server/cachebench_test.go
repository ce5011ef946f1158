package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

// BenchmarkCacheHit is issue 14's hit path through the whole server, every
// feature on (policy, limits, metrics, JSON log): a GET answered from the
// cache, from memory and from Redis (CORSBRIDGE_CACHE_LOCAL_TTL=0, so every
// hit reads Redis). "handler" calls ServeHTTP directly, so allocs/op are the
// server's own; "loopback" adds a real client connection, as
// internal/tools/bench's corsbridge-cache target does. cpu-ns/op is the
// process's CPU time (user and system) per hit: on a machine shared with
// other work it moves less than ns/op, which also counts waiting for a CPU.
//
//	go test ./server -run '^$' -bench CacheHit -benchmem -count 6
func BenchmarkCacheHit(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(benchBody)
	}))
	b.Cleanup(upstream.Close)
	path := "/" + upstream.URL + "/1k-cacheable"
	var rdb redis.UniversalClient
	tiers := func(tier string) func(*Deps) {
		return func(d *Deps) {
			cfg := cache.DefaultConfig()
			d.Cache = &cfg
			if tier == cache.TierRedis {
				if rdb == nil {
					opts, err := redis.ParseURL(redistest.Dedicated(b).URL())
					if err != nil {
						b.Fatal(err)
					}
					rdb = redis.NewClient(opts)
					b.Cleanup(func() { rdb.Close() })
				}
				cfg.LocalTTL = 0
				cfg.RedisPrefix = "bench:" + b.Name() + ":"
				d.CacheRedis = rdb
			}
		}
	}
	handler := func(b *testing.B, h http.Handler) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "192.0.2.7:40000"
		req.Header.Set("Origin", benchOrigin)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "corsbridge-bench")
		w := &discardWriter{h: http.Header{}}
		serve := func(want string) {
			clear(w.h)
			w.status = 0
			h.ServeHTTP(w, req)
			if w.status != http.StatusOK || !strings.HasPrefix(w.h.Get("Cache-Status"), want) {
				b.Fatalf("status %d, Cache-Status %q: %s", w.status, w.h.Get("Cache-Status"), w.h.Get(HeaderError))
			}
		}
		serve("corsbridge; fwd=uri-miss")
		serve("corsbridge; hit")
		b.ReportAllocs()
		cpu, n := cpuTime(b), 0
		for b.Loop() {
			serve("corsbridge; hit")
			n++
		}
		reportCPU(b, cpu, n)
	}
	loopback := func(b *testing.B, h http.Handler) {
		front := httptest.NewServer(h)
		defer front.Close()
		client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
		defer client.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, front.URL+"/", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.URL.Opaque = path
		req.Header.Set("Origin", benchOrigin)
		get := func() string {
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || n != int64(len(benchBody)) {
				b.Fatalf("status %d, %d bytes: %s", res.StatusCode, n, res.Header.Get(HeaderError))
			}
			return res.Header.Get("Cache-Status")
		}
		get()
		if status := get(); !strings.HasPrefix(status, "corsbridge; hit") {
			b.Fatalf("second request: Cache-Status %q", status)
		}
		b.ReportAllocs()
		cpu, n := cpuTime(b), 0
		for b.Loop() {
			get()
			n++
		}
		reportCPU(b, cpu, n)
	}
	for _, tier := range []string{cache.TierMemory, cache.TierRedis} {
		b.Run("handler/"+tier, func(b *testing.B) { handler(b, newBenchServer(b, allFeatures, tiers(tier))) })
		b.Run("loopback/"+tier, func(b *testing.B) { loopback(b, newBenchServer(b, allFeatures, tiers(tier))) })
	}
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time since start per operation as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration, n int) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(max(n, 1)), "cpu-ns/op")
}
