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
