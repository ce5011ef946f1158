package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

// withCache turns the shared cache on, with Redis when rdb is set.
func withCache(rdb redis.UniversalClient) func(*Deps) {
	return func(d *Deps) {
		cfg := cache.DefaultConfig()
		d.Cache, d.CacheRedis = &cfg, rdb
	}
}

// cacheableUpstream answers every GET with a fresh response naming what
// could select it: the query and X-Api-Key. It forges a CORS header too.
func cacheableUpstream(t *testing.T) (*httptest.Server, *recorder) {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Access-Control-Allow-Origin", "https://forged.example")
		_, _ = io.WriteString(w, "q="+r.URL.RawQuery+" key="+r.Header.Get("X-Api-Key"))
	})
}

// TestCacheHitGetsTheAskersCORS: a hit carries the CORS headers of the
// origin asking, exactly once, never those of the request that filled the
// entry, and exposes Cache-Status and Age to script.
func TestCacheHitGetsTheAskersCORS(t *testing.T) {
	upstream, rec := cacheableUpstream(t)
	p := newProxy(t, withCache(nil), func(d *Deps) {
		d.Policy = loopbackPolicy(t, func(c *allowlist.Config) { c.AllowOrigins = []string{"https://a.example", "https://b.example"} })
	})
	first, _ := p.do(t, "GET", "/"+upstream.URL+"/x", nil, map[string]string{"Origin": "https://a.example"})
	res, body := p.do(t, "GET", "/"+upstream.URL+"/x", nil, map[string]string{"Origin": "https://b.example"})
	if n := len(rec.all()); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1 (a hit)", n)
	}
	if string(body) != "q= key=" || !strings.HasPrefix(res.Header.Get("Cache-Status"), "corsbridge; hit; ttl=") || res.Header.Get("Age") == "" {
		t.Fatalf("hit: %q, Cache-Status %q, Age %q", body, res.Header.Get("Cache-Status"), res.Header.Get("Age"))
	}
	if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://b.example" {
		t.Fatalf("hit for b.example: Access-Control-Allow-Origin %q", got)
	}
	if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("hit without Vary: Origin: %q", res.Header.Values("Vary"))
	}
	exposed := res.Header.Get("Access-Control-Expose-Headers")
	for _, name := range []string{"Cache-Status", "Age", "X-Request-Id", "X-Request-Url"} {
		if !strings.Contains(exposed, name) {
			t.Errorf("%s not exposed on a hit: %q", name, exposed)
		}
	}
	if !strings.Contains(first.Header.Get("Access-Control-Expose-Headers"), "Cache-Status") {
		t.Errorf("Cache-Status not exposed on the miss: %q", first.Header.Get("Access-Control-Expose-Headers"))
	}
	if res.Header.Get(HeaderRequestID) == first.Header.Get(HeaderRequestID) {
		t.Error("the hit repeats the first request's id")
	}
	if !strings.Contains(p.Logs.String(), `"cache":"hit"`) || !strings.Contains(p.Logs.String(), `"cache":"miss"`) {
		t.Errorf("the request log lacks the cache status:\n%s", p.Logs.String())
	}
}

// TestCacheHeaderKeyNeverShared: request A carries an API key in a header,
// request B none; B never gets A's answer. A key in the query is another URL.
func TestCacheHeaderKeyNeverShared(t *testing.T) {
	upstream, rec := cacheableUpstream(t)
	p := newProxy(t, withCache(nil))
	steps := []struct {
		path, key, body string
		upstream        int
	}{
		{"/x", "secret", "q= key=secret", 1},
		{"/x", "", "q= key=", 2},
		{"/x", "secret", "q= key=secret", 2},
		{"/x", "", "q= key=", 2},
		{"/x?api_key=secret", "", "q=api_key=secret key=", 3},
		{"/x?api_key=other", "", "q=api_key=other key=", 4},
		{"/x?api_key=secret", "", "q=api_key=secret key=", 4},
	}
	for i, s := range steps {
		h := map[string]string{"Origin": "https://app.example"}
		if s.key != "" {
			h["X-Api-Key"] = s.key
		}
		_, body := p.do(t, "GET", "/"+upstream.URL+s.path, nil, h)
		if string(body) != s.body || len(rec.all()) != s.upstream {
			t.Fatalf("step %d: %q after %d upstream requests; want %q after %d", i, body, len(rec.all()), s.body, s.upstream)
		}
	}
}

// TestCacheHitCountsAgainstLimits: the cache sits after the limits.
func TestCacheHitCountsAgainstLimits(t *testing.T) {
	upstream, rec := cacheableUpstream(t)
	p := newProxy(t, withCache(nil), withLimits(t, "3/1m", "off"))
	for i := range 3 {
		res, _ := p.do(t, "GET", "/"+upstream.URL+"/x", nil, nil)
		if res.StatusCode != 200 || res.Header.Get("X-Ratelimit-Remaining") != string(rune('2'-i)) {
			t.Fatalf("request %d: %d, remaining %q", i, res.StatusCode, res.Header.Get("X-Ratelimit-Remaining"))
		}
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/x", nil, nil)
	checkErrorContract(t, res, body, 429, "rate_limited")
	if n := len(rec.all()); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1", n)
	}
}

// TestCacheSharedThroughRedis: two instances share entries through Redis.
func TestCacheSharedThroughRedis(t *testing.T) {
	srv := redistest.Dedicated(t)
	opts, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	upstream, rec := cacheableUpstream(t)
	a := newProxy(t, withCache(rdb))
	b := newProxy(t, withCache(rdb), func(d *Deps) { d.Metrics = prometheus.NewRegistry() })
	a.do(t, "GET", "/"+upstream.URL+"/shared", nil, nil)
	res, body := b.do(t, "GET", "/"+upstream.URL+"/shared", nil, nil)
	if n := len(rec.all()); n != 1 || string(body) != "q= key=" || !strings.HasPrefix(res.Header.Get("Cache-Status"), "corsbridge; hit") {
		t.Fatalf("instance b: %q, Cache-Status %q, after %d upstream requests", body, res.Header.Get("Cache-Status"), n)
	}
	var ready struct{ Cache string }
	_, raw := b.do(t, "GET", "/readyz", nil, nil)
	if err := json.Unmarshal(raw, &ready); err != nil || ready.Cache != "redis" {
		t.Fatalf("readyz %s: %v", raw, err)
	}
	metrics := httptest.NewRecorder()
	b.Server.MetricsHandler().ServeHTTP(metrics, httptest.NewRequest("GET", "/metrics", nil))
	if want := `corsbridge_cache_hits_total{tier="redis"} 1`; !strings.Contains(metrics.Body.String(), want) {
		t.Errorf("metrics lack %q", want)
	}
}

// TestCacheKeyedRequestsApart: a request made with an access key shares
// entries only with the same key's (a key may send secrets upstream).
func TestCacheKeyedRequestsApart(t *testing.T) {
	upstream, rec := cacheableUpstream(t)
	team, teamSecret := newKey(t, "team", "off", time.Time{}, nil, nil)
	other, otherSecret := newKey(t, "other", "off", time.Time{}, nil, nil)
	p := newProxy(t, withCache(nil), withAccess(t, access.Config{}, access.Data{Keys: []access.Key{team, other}}))
	steps := []struct {
		key      string
		upstream int
	}{{teamSecret, 1}, {"", 2}, {otherSecret, 3}, {teamSecret, 3}, {"", 3}}
	for i, s := range steps {
		h := map[string]string{"Origin": "https://app.example"}
		if s.key != "" {
			h[HeaderKey] = s.key
		}
		if res, _ := p.do(t, "GET", "/"+upstream.URL+"/k", nil, h); res.StatusCode != 200 || len(rec.all()) != s.upstream {
			t.Fatalf("step %d: %d after %d upstream requests, want %d", i, res.StatusCode, len(rec.all()), s.upstream)
		}
	}
}
