package ratelimit

import (
	"runtime"

	"github.com/corsbridge/corsbridge/allowlist"

	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/httprate"
)

// discardWriter is a ResponseWriter that keeps nothing but headers.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchRequests are requests from 1024 clients and 1024 origins, so counts
// stay far below the limit however long the benchmark runs.
func benchRequests() []*http.Request {
	reqs := make([]*http.Request, 1024)
	for i := range reqs {
		r := httptest.NewRequest("GET", "/https://api.example/v1/items", nil)
		r.RemoteAddr = fmt.Sprintf("198.51.%d.%d:4000", i/256, i%256)
		r.Header.Set("Origin", fmt.Sprintf("https://app%d.example", i))
		reqs[i] = r
	}
	return reqs
}

// BenchmarkMiddleware measures a request through the limiter (origin and
// client limits: two counts per request) against a bare handler, with
// in-memory counters, with httprate's own limiter as a reference, and with
// Redis through the Lua script or the MULTI pipeline. added-ns/op is the cost
// over the bare handler; roundtrips/op counts Redis commands and pipelines.
func BenchmarkMiddleware(b *testing.B) {
	huge := Limit{Requests: MaxRequests, Window: time.Hour}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	reqs := benchRequests()
	var baseline float64

	run := func(b *testing.B, h http.Handler) (perOp float64, iters int) {
		b.ReportAllocs()
		w := &discardWriter{h: http.Header{}}
		i := 0
		start := time.Now()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, reqs[i%len(reqs)])
			i++
		}
		perOp = float64(time.Since(start).Nanoseconds()) / float64(i)
		if baseline > 0 {
			b.ReportMetric(perOp-baseline, "added-ns/op")
		}
		return perOp, i
	}

	b.Run("none", func(b *testing.B) {
		baseline = 0
		baseline, _ = run(b, noop)
	})
	b.Run("local", func(b *testing.B) {
		l, err := New(context.Background(), Config{Origin: huge, Client: huge, OriginKey: allowlist.OriginKey})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		run(b, l.Middleware(noop))
	})
	b.Run("httprate-local", func(b *testing.B) {
		run(b, httprateLimiters(noop))
	})
	// "-refused": every client is over its limit, the case under attack.
	type redisCase struct {
		name   string
		client Limit
	}
	var cases []redisCase
	for _, mode := range takeModes {
		cases = append(cases, redisCase{"redis-" + mode.name, huge}, redisCase{"redis-" + mode.name + "-refused", Limit{Requests: 1, Window: time.Hour}})
	}
	for _, c := range cases {
		mode := takeModes[0]
		if strings.Contains(c.name, "pipeline") {
			mode = takeModes[1]
		}
		b.Run(c.name, func(b *testing.B) {
			logs := &logBuffer{}
			l, err := New(context.Background(), Config{Origin: huge, Client: c.client, OriginKey: allowlist.OriginKey, RedisURL: sharedRedisURL, Logger: logs.logger()})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			if l.Status() != StatusHealthy {
				b.Fatalf("Redis at %s: %s", sharedRedisURL, l.Status())
			}
			l.counter.pipeline = mode.pipeline
			hook := &roundTrips{}
			l.rdb.AddHook(hook)
			h := l.Middleware(noop)
			for _, r := range reqs { // load the script, use up "-refused" quotas
				h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
			}
			hook.n.Store(0)
			_, iters := run(b, h)
			b.ReportMetric(float64(hook.n.Load())/float64(iters), "roundtrips/op")
			if l.Status() != StatusHealthy {
				b.Fatalf("fell back during the benchmark: %s", logs.String())
			}
		})
	}
}

// BenchmarkMiddlewareParallel shows the in-memory path scales across cores:
// no process-wide lock, unlike httprate's RateLimiter; and how many Redis
// round trips 64 requests in flight share.
func BenchmarkMiddlewareParallel(b *testing.B) {
	huge := Limit{Requests: MaxRequests, Window: time.Hour}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	reqs := benchRequests()
	runParallel := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			i := 0
			for pb.Next() {
				clear(w.h)
				h.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
		})
	}
	b.Run("local", func(b *testing.B) {
		l, err := New(context.Background(), Config{Origin: huge, Client: huge, OriginKey: allowlist.OriginKey})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		runParallel(b, l.Middleware(noop))
	})
	b.Run("httprate-local", func(b *testing.B) {
		runParallel(b, httprateLimiters(noop))
	})
	// 64 requests at a time, as the proxy under bench's -c64 load: script
	// calls made while another is on the wire share a pipeline.
	b.Run("redis-lua-64", func(b *testing.B) {
		l, err := New(context.Background(), Config{Origin: huge, Client: huge, OriginKey: allowlist.OriginKey, RedisURL: sharedRedisURL})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		hook := &roundTrips{}
		l.rdb.AddHook(hook)
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		runParallel(b, l.Middleware(noop))
		b.ReportMetric(float64(hook.n.Load())/float64(b.N), "roundtrips/op")
		if l.Status() != StatusHealthy {
			b.Fatalf("fell back during the benchmark: %s", l.Status())
		}
	})
}

// httprateLimiters is the reference: the same two limits with httprate's own
// limiter and in-memory counter.
func httprateLimiters(next http.Handler) http.Handler {
	origin := httprate.LimitBy(MaxRequests, time.Hour, func(r *http.Request) (string, error) {
		return allowlist.OriginKey(r.Header.Get("Origin")), nil
	})
	client := httprate.LimitBy(MaxRequests, time.Hour, func(r *http.Request) (string, error) {
		return clientKey(ClientIP(r, "")), nil
	})
	return client(origin(next))
}
