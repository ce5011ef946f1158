package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUpstreamCountsCacheableRequests(t *testing.T) {
	srv := httptest.NewServer(upstreamHandler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	tests := []struct {
		path, cacheControl string
		wantCount          string // /cacheable-count afterwards
	}{
		{"/1k", "no-store", "0"},
		{"/1k-cacheable", "public, max-age=3600", "1"},
		{"/1k-cacheable", "public, max-age=3600", "2"},
		{"/1k", "no-store", "2"},
	}
	for _, tt := range tests {
		res, body := get(tt.path)
		if res.StatusCode != 200 || len(body) != 1024 || res.Header.Get("Cache-Control") != tt.cacheControl {
			t.Errorf("%s: %d, %d bytes, Cache-Control %q; want 200, 1024, %q", tt.path, res.StatusCode, len(body), res.Header.Get("Cache-Control"), tt.cacheControl)
		}
		if _, count := get("/cacheable-count"); count != tt.wantCount {
			t.Errorf("after %s: count %s, want %s", tt.path, count, tt.wantCount)
		}
	}
}

// A cache-hit run is flagged when more than 1 % of its requests reached the
// upstream: it measured misses.
func TestWarningsFlagCacheMisses(t *testing.T) {
	tests := []struct {
		misses, completed int64
		flagged           bool
	}{
		{0, 10000, false},
		{100, 10000, false},
		{101, 10000, true},
		{10000, 10000, true},
	}
	for _, tt := range tests {
		s := sample{Load: wrkResult{Completed: tt.completed}, Misses: tt.misses}
		if got := strings.Contains(s.warnings(), "not cache hits"); got != tt.flagged {
			t.Errorf("%d misses of %d: flagged %v, want %v (%q)", tt.misses, tt.completed, got, tt.flagged, s.warnings())
		}
	}
}

// A flagged run of corsbridge-cache-redis says how many Redis calls failed:
// each turns the tier off for a second, so its misses are explained.
func TestWarningsNameRedisErrors(t *testing.T) {
	s := sample{Load: wrkResult{Completed: 10000}, Misses: 5000, RedisErrs: 3}
	if w := s.warnings(); !strings.Contains(w, "5000 of 10000 requests reached the upstream") || !strings.Contains(w, "3 Redis calls failed") {
		t.Errorf("warnings %q", w)
	}
	s = sample{Load: wrkResult{Completed: 10000}, Misses: 10, RedisErrs: 3}
	if w := s.warnings(); w != "" {
		t.Errorf("a run of hits is flagged: %q", w)
	}
}

func TestMetricValue(t *testing.T) {
	const text = `# HELP corsbridge_cache_redis_errors_total Failed or timed-out Redis calls of the cache, each a miss.
# TYPE corsbridge_cache_redis_errors_total counter
corsbridge_cache_redis_errors_total 17
corsbridge_cache_hits_total{tier="redis"} 5
corsbridge_cache_redis_errors_total_other 3
`
	tests := []struct {
		name string
		want float64
		ok   bool
	}{
		{redisErrorsMetric, 17, true},
		{"corsbridge_cache_hits_total", 0, false},
		{"corsbridge_cache_misses_total", 0, false},
	}
	for _, tt := range tests {
		if got, ok := metricValue(text, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("metricValue(%s) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
