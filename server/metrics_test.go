package server

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/internal/redistest"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// withMetrics records metrics on a fresh registry and serves them on /metrics.
func withMetrics(d *Deps) {
	d.Metrics = prometheus.NewRegistry()
	d.Config.ServeMetrics = true
	d.Config.Version = "v9.9.9-test"
}

// scrape fetches /metrics and returns its samples by name and labels, as
// written in the text format: `name{a="1",b="2"}`.
func scrape(t *testing.T, p *proxyFixture) map[string]float64 {
	t.Helper()
	res, body := p.do(t, "GET", "/metrics", nil, map[string]string{})
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text format", ct)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		samples[line[:i]] = v
	}
	return samples
}

func wantSamples(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for name, v := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: missing", name)
		} else if g != v {
			t.Errorf("%s = %v, want %v", name, g, v)
		}
	}
}

func TestMetricsCountTraffic(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("echo:"), body...))
	})
	port := upstream.URL[strings.LastIndexByte(upstream.URL, ':')+1:]
	p := newProxy(t, withMetrics, withLimits(t, "2/1m", "off"), func(d *Deps) {
		d.Policy = mustPolicy(t, allowlist.Config{
			AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			DenyOrigins:  []string{"https://evil.example"},
		})
		d.LookupHost = fakeDNS(map[string][]string{"meta.example.com": {"169.254.169.254"}})
	})

	// Before any traffic every series exists at zero.
	wantSamples(t, scrape(t, p), map[string]float64{
		`corsbridge_requests_total{class="4xx",code="rate_limited"}`:                            0,
		`corsbridge_refusals_total{code="target_forbidden",reason="metadata",stage="upstream"}`: 0,
		`corsbridge_rate_limited_total{limit="client"}`:                                         0,
		`corsbridge_build_info{go_version="` + runtime.Version() + `",version="v9.9.9-test"}`:   1,
		`corsbridge_rate_limit_state{state="not_configured"}`:                                   1,
		`corsbridge_rate_limit_state{state="degraded"}`:                                         0,
		`corsbridge_upstream_duration_seconds_count`:                                            0,
		`corsbridge_in_flight_requests`:                                                         0,
	})

	var bytesOut int
	send := func(method, path, origin, body string, want int) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		res, data := p.do(t, method, path, r, map[string]string{"Origin": origin})
		if res.StatusCode != want {
			t.Fatalf("%s %s from %s: %d %s, want %d", method, path, origin, res.StatusCode, data, want)
		}
		if method != "HEAD" {
			bytesOut += len(data)
		}
	}
	send("GET", "/"+upstream.URL+"/a", "https://app.example", "", 200)
	send("POST", "/"+upstream.URL+"/b", "https://other.example", "12345678", 200)
	send("GET", "/"+upstream.URL+"/", "https://evil.example", "", 403)
	send("GET", "/http://10.0.0.1/", "https://app.example", "", 403)
	send("GET", "/http://meta.example.com:"+port+"/", "https://app.example", "", 403)
	send("GET", "/"+upstream.URL+"/c", "https://busy.example", "", 200)
	send("GET", "/"+upstream.URL+"/c", "https://busy.example", "", 200)
	send("GET", "/"+upstream.URL+"/c", "https://busy.example", "", 429)
	send("GET", "/favicon.ico", "https://app.example", "", 404)

	got := scrape(t, p)
	wantSamples(t, got, map[string]float64{
		// 2 + 2 proxied, plus the first scrape.
		`corsbridge_requests_total{class="2xx",code="none"}`:                                        5,
		`corsbridge_requests_total{class="4xx",code="origin_forbidden"}`:                            1,
		`corsbridge_requests_total{class="4xx",code="target_forbidden"}`:                            2,
		`corsbridge_requests_total{class="4xx",code="rate_limited"}`:                                1,
		`corsbridge_requests_total{class="4xx",code="not_found"}`:                                   1,
		`corsbridge_requests_total{class="5xx",code="upstream_unreachable"}`:                        0,
		`corsbridge_refusals_total{code="origin_forbidden",reason="origin_denied",stage="check"}`:   1,
		`corsbridge_refusals_total{code="target_forbidden",reason="private_address",stage="check"}`: 1,
		`corsbridge_refusals_total{code="target_forbidden",reason="metadata",stage="upstream"}`:     1,
		`corsbridge_refusals_total{code="target_forbidden",reason="metadata",stage="check"}`:        0,
		`corsbridge_rate_limited_total{limit="origin"}`:                                             1,
		`corsbridge_rate_limited_total{limit="client"}`:                                             0,
		`corsbridge_upstream_duration_seconds_count`:                                                4,
		`corsbridge_request_body_bytes_total`:                                                       8,
		`corsbridge_in_flight_requests`:                                                             0,
		`corsbridge_responses_aborted_total`:                                                        0,
	})
	// Everything the client read, plus the first scrape's body (counted once
	// it was written, so not known here): at least the traffic's bytes.
	if out := got[`corsbridge_response_body_bytes_total`]; out < float64(bytesOut) {
		t.Errorf("response bytes = %v, want at least the %d the client read", out, bytesOut)
	}
	if sum := got[`corsbridge_upstream_duration_seconds_sum`]; sum <= 0 {
		t.Errorf("upstream duration sum = %v, want > 0", sum)
	}
}

func TestMetricsResponseBytesExact(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 1000))
	})
	p := newProxy(t, func(d *Deps) { d.Metrics = prometheus.NewRegistry() })
	for range 3 {
		if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	// Not served on the proxy's port unless asked for.
	res, body := p.do(t, "GET", "/metrics", nil, nil)
	checkErrorContract(t, res, body, 404, "not_found")

	h := p.Server.MetricsHandler()
	if h == nil {
		t.Fatal("MetricsHandler is nil with a registry")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		"corsbridge_response_body_bytes_total " + strconv.Itoa(3000+len(body)) + "\n",
		`corsbridge_requests_total{class="2xx",code="none"} 3` + "\n",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, rec.Body.String())
		}
	}
}

func TestMetricsInFlight(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 2)
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	})
	p := newProxy(t, withMetrics)
	done := make(chan int, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/", nil)
			req.Header.Set("Origin", "https://app.example")
			res, err := p.Client.Do(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
	}
	<-started
	<-started
	wantSamples(t, scrape(t, p), map[string]float64{`corsbridge_in_flight_requests`: 2})
	close(release)
	for range 2 {
		if status := <-done; status != 200 {
			t.Errorf("slow request: %d", status)
		}
	}
	wantSamples(t, scrape(t, p), map[string]float64{`corsbridge_in_flight_requests`: 0})
}

func TestMetricsRedisState(t *testing.T) {
	redisSrv := redistest.Dedicated(t)
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, withMetrics, func(d *Deps) {
		d.RateLimit = &ratelimit.Config{Origin: ratelimit.Limit{Requests: 100, Window: time.Minute}, RedisURL: redisSrv.URL()}
	})
	wantSamples(t, scrape(t, p), map[string]float64{
		`corsbridge_rate_limit_state{state="healthy"}`:        1,
		`corsbridge_rate_limit_state{state="degraded"}`:       0,
		`corsbridge_rate_limit_state{state="not_configured"}`: 0,
	})
	redisSrv.Stop()
	// The first request that finds Redis gone switches to the fallback.
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 200 {
		t.Fatalf("request during the outage: %d", res.StatusCode)
	}
	wantSamples(t, scrape(t, p), map[string]float64{
		`corsbridge_rate_limit_state{state="healthy"}`:  0,
		`corsbridge_rate_limit_state{state="degraded"}`: 1,
	})
}

func TestNewRefusesMetricsWithoutRegistry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ServeMetrics = true
	if _, err := New(Deps{Config: cfg, Policy: loopbackPolicy(t)}); err == nil {
		t.Error("New accepted ServeMetrics without a registry")
	}
	// Two servers on one registry would report each other's traffic.
	reg := prometheus.NewRegistry()
	first, err := New(Deps{Config: DefaultConfig(), Policy: loopbackPolicy(t), Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if second, err := New(Deps{Config: DefaultConfig(), Policy: loopbackPolicy(t), Metrics: reg}); err == nil {
		second.Close()
		t.Error("a second server registered on the same registry")
	}
}
