package server

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// The benchmarks here hold issue 7's allocation target: a proxied request
// through the whole server (origin and target allowlists, SSRF guard on the
// dialer, local rate limits, a JSON request log) compared, in the same run,
// with a plain httputil.ReverseProxy that only adds
// Access-Control-Allow-Origin. Both reach the same loopback upstream, which
// answers 1 KiB, as internal/tools/bench's upstream does.
//
//	go test ./server -run '^$' -bench . -benchtime 2s -count 5
//
// The upstream allocates nothing, so BenchmarkHandler's allocs/op and B/op
// are the proxy's own. BenchmarkProxy's include the client in the same
// process: its proxy-* metrics subtract the same run's "direct"
// sub-benchmark (client straight to the upstream).

const benchOrigin = "https://app.example"

var benchBody = bytes.Repeat([]byte("corsbridge-bench "), 1024/17+1)[:1024]

// benchResponse is the upstream's whole answer, written as is: 1 KiB with
// the headers a small JSON API sends.
var benchResponse = append([]byte("HTTP/1.1 200 OK\r\n"+
	"Content-Type: application/json\r\n"+
	"Content-Length: 1024\r\n"+
	"Cache-Control: no-store\r\n"+
	"Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\n"), benchBody...)

// newBenchUpstream is an upstream that allocates nothing per request: it
// reads each request's head (GETs, no bodies) and writes benchResponse. So
// allocs/op and B/op of the benchmarks below are the proxy's and the
// client's alone, not net/http's server side of the upstream.
func newBenchUpstream(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() { answerRequests(c) })
		}
	})
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// answerRequests writes benchResponse once per request head read from c.
func answerRequests(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16<<10)
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
			if end < 0 {
				break
			}
			if _, err := c.Write(benchResponse); err != nil {
				return
			}
			n = copy(buf, buf[end+4:n])
		}
		if n == len(buf) {
			return // a head larger than the buffer: not a benchmark request
		}
	}
}

// features selects what newBenchServer turns on beyond the policy.
type features struct {
	log, limits, metrics bool
	cache                bool // the shared cache in memory, as the binary has it by default
}

var allFeatures = features{log: true, limits: true, metrics: true}

// newBenchServer builds the proxy as production runs it: an origin and a
// target allowlist, 127.0.0.0/8 as the one private exception, and, as f
// says, local rate limits far above what a benchmark sends, a JSON log to
// io.Discard and Prometheus metrics. The tests' outer loopback guard stays
// on, so nothing leaves the machine.
func newBenchServer(b *testing.B, f features, mutate ...func(*Deps)) *Server {
	b.Helper()
	policy, err := allowlist.New(allowlist.Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		AllowOrigins: []string{benchOrigin, "https://*.example.org"},
		AllowTargets: []string{"127.0.0.1"},
	})
	if err != nil {
		b.Fatalf("allowlist.New: %v", err)
	}
	d := Deps{Config: DefaultConfig(), Policy: policy, DialControl: loopbackOnly}
	if f.log {
		d.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if f.metrics {
		d.Metrics = prometheus.NewRegistry()
	}
	if f.cache {
		cfg := cache.DefaultConfig()
		d.Cache = &cfg
	}
	if f.limits {
		huge := ratelimit.Limit{Requests: ratelimit.MaxRequests, Window: time.Second}
		// The caps in flight are on by default in the binary.
		d.RateLimit = &ratelimit.Config{Origin: huge, Client: huge, ClientConcurrency: 4096, OriginConcurrency: 4096}
	}
	for _, m := range mutate {
		m(&d)
	}
	srv, err := New(d)
	if err != nil {
		b.Fatalf("server.New: %v", err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newPlainProxy is the reference: what anyone would write in ten lines with
// the standard library. It reads the target from the path like corsbridge,
// uses http.DefaultTransport's settings, and adds only
// Access-Control-Allow-Origin.
func newPlainProxy(b *testing.B) http.Handler {
	b.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(transport.CloseIdleConnections)
	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			target, err := url.Parse(strings.TrimPrefix(pr.In.RequestURI, "/"))
			if err != nil {
				return
			}
			pr.Out.URL = target
			pr.Out.Host = ""
		},
		ModifyResponse: func(res *http.Response) error {
			res.Header.Set("Access-Control-Allow-Origin", "*")
			return nil
		},
	}
}

// allocMeter counts the process's allocations over a benchmark loop, so a
// sub-benchmark can report its difference to the same run's baseline.
type allocMeter struct {
	start runtime.MemStats
	ns    time.Time
}

func startMeter() *allocMeter {
	m := &allocMeter{}
	runtime.ReadMemStats(&m.start)
	m.ns = time.Now()
	return m
}

type perOp struct{ ns, allocs, bytes float64 }

func (m *allocMeter) stop(n int) perOp {
	elapsed := time.Since(m.ns)
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	f := float64(max(n, 1))
	return perOp{
		ns:     float64(elapsed.Nanoseconds()) / f,
		allocs: float64(end.Mallocs-m.start.Mallocs) / f,
		bytes:  float64(end.TotalAlloc-m.start.TotalAlloc) / f,
	}
}

// reportOver reports got minus base as proxy-ns/op, proxy-allocs/op and
// proxy-B/op, when the baseline ran in this process.
func reportOver(b *testing.B, got, base perOp) {
	if base.ns == 0 {
		return
	}
	b.ReportMetric(got.ns-base.ns, "proxy-ns/op")
	b.ReportMetric(got.allocs-base.allocs, "proxy-allocs/op")
	b.ReportMetric(got.bytes-base.bytes, "proxy-B/op")
}

// BenchmarkProxy sends GETs over a real loopback connection, one at a time,
// through each proxy to the upstream: the request a page makes, end to end.
func BenchmarkProxy(b *testing.B) {
	upstream := newBenchUpstream(b)
	path := "/" + upstream + "/1k"
	var direct perOp

	run := func(b *testing.B, base string, requestPath string) perOp {
		client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
		defer client.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, base+"/", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.URL.Opaque = requestPath
		req.Header.Set("Origin", benchOrigin)
		get := func() {
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || n != int64(len(benchBody)) {
				b.Fatalf("status %d, %d bytes: %s", res.StatusCode, n, res.Header.Get(HeaderError))
			}
		}
		get() // open the connections outside the measurement
		b.ReportAllocs()
		b.ResetTimer()
		m, n := startMeter(), 0
		for b.Loop() {
			get()
			n++
		}
		return m.stop(n)
	}

	b.Run("direct", func(b *testing.B) {
		direct = run(b, upstream, "/1k")
	})
	b.Run("plain", func(b *testing.B) {
		front := httptest.NewServer(newPlainProxy(b))
		defer front.Close()
		reportOver(b, run(b, front.URL, path), direct)
	})
	b.Run("corsbridge", func(b *testing.B) {
		front := httptest.NewServer(newBenchServer(b, allFeatures))
		defer front.Close()
		reportOver(b, run(b, front.URL, path), direct)
	})
}

// discardWriter is the client side of BenchmarkHandler: it keeps the
// headers, counts nothing and supports Flush like net/http's writer.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Flush()                      {}

// BenchmarkHandler calls each handler's ServeHTTP directly, without the
// client connection, so the numbers are the handler's and the upstream
// round trip's. The corsbridge variants take one feature away at a time to
// price it: the JSON log, the rate limiter, the metrics; and add the cache,
// which the binary runs with by default.
func BenchmarkHandler(b *testing.B) {
	upstream := newBenchUpstream(b)
	var plain perOp

	run := func(b *testing.B, h http.Handler) perOp {
		req := httptest.NewRequest(http.MethodGet, "/"+upstream+"/1k", nil)
		req.RemoteAddr = "192.0.2.7:40000"
		req.Header.Set("Origin", benchOrigin)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "corsbridge-bench")
		w := &discardWriter{h: http.Header{}}
		serve := func() {
			clear(w.h)
			w.status = 0
			h.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("status %d: %s", w.status, w.h.Get(HeaderError))
			}
		}
		serve()
		b.ReportAllocs()
		b.ResetTimer()
		m, n := startMeter(), 0
		for b.Loop() {
			serve()
			n++
		}
		return m.stop(n)
	}
	over := func(b *testing.B, got perOp) {
		if plain.ns == 0 {
			return
		}
		b.ReportMetric(got.ns-plain.ns, "over-plain-ns/op")
		b.ReportMetric(got.allocs-plain.allocs, "over-plain-allocs/op")
	}

	b.Run("plain", func(b *testing.B) { plain = run(b, newPlainProxy(b)) })
	b.Run("corsbridge", func(b *testing.B) { over(b, run(b, newBenchServer(b, allFeatures))) })
	b.Run("corsbridge-nolog", func(b *testing.B) {
		over(b, run(b, newBenchServer(b, features{limits: true, metrics: true})))
	})
	b.Run("corsbridge-nolimits", func(b *testing.B) {
		over(b, run(b, newBenchServer(b, features{log: true, metrics: true})))
	})
	b.Run("corsbridge-nometrics", func(b *testing.B) {
		over(b, run(b, newBenchServer(b, features{log: true, limits: true})))
	})
	// The cache's step on a response it may not store (the upstream's
	// no-store), which is every request of this benchmark.
	b.Run("corsbridge-cache", func(b *testing.B) {
		over(b, run(b, newBenchServer(b, features{log: true, limits: true, metrics: true, cache: true})))
	})
}
