package web

import (
	"crypto/tls"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestPageHeaders(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	pages := []struct {
		name       string
		h          http.Handler
		status     int
		cache      string
		proxyError string
	}{
		{"landing", s.Landing(testErrors), http.StatusOK, "no-cache", ""},
		{"header required", headerRequiredHandler(s, "https://api.example.com/"), http.StatusBadRequest, "no-store", "header_required"},
	}
	want := map[string]string{
		"Content-Type": "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			res, body := serve(t, p.h, httptest.NewRequest(http.MethodGet, "/", nil))
			if res.StatusCode != p.status {
				t.Errorf("status %d, want %d", res.StatusCode, p.status)
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := res.Header.Get("Cache-Control"); got != p.cache {
				t.Errorf("Cache-Control = %q, want %q", got, p.cache)
			}
			if got := res.Header.Get("X-Corsbridge-Error"); got != p.proxyError {
				t.Errorf("X-Corsbridge-Error = %q, want %q", got, p.proxyError)
			}
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %q, body is %d bytes", got, len(body))
			}
			// The CSP forbids inline code; the page must not rely on any.
			for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "javascript:"} {
				if strings.Contains(body, bad) {
					t.Errorf("page contains inline code %q", bad)
				}
			}
			if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, `<script src="`+AssetPrefix) {
				t.Errorf("page has %d script tags, want exactly one, from %s", n, AssetPrefix)
			}
		})
	}
}

// attrURL finds every URL-valued attribute.
var attrURL = regexp.MustCompile(`(?i)\b(?:src|href|action|srcset|poster|formaction|data)\s*=\s*["']?([^"'\s>]*)`)

func TestNoExternalURLs(t *testing.T) {
	s := newTestSite(t, Info{AllowedOrigins: []string{"https://app.example"}})
	pages := map[string]http.Handler{
		"landing":         s.Landing(testErrors),
		"header required": headerRequiredHandler(s, "https://api.example.com/v1"),
	}
	for name, h := range pages {
		t.Run(name, func(t *testing.T) {
			_, body := serve(t, h, httptest.NewRequest(http.MethodGet, "http://proxy.example/", nil))
			found := attrURL.FindAllStringSubmatch(body, -1)
			if len(found) == 0 {
				t.Fatal("no src or href at all; is the pattern broken?")
			}
			for _, m := range found {
				u := html.UnescapeString(m[1])
				local := strings.HasPrefix(u, "#") || (strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"))
				if !local && !strings.HasPrefix(u, "http://proxy.example/") {
					t.Errorf("%s points off this instance: %q", strings.SplitN(m[0], "=", 2)[0], u)
				}
			}
		})
	}
	t.Run("assets", func(t *testing.T) {
		for _, name := range []string{"app.js", "style.css"} {
			a := s.assets.byName[name]
			for _, bad := range []string{"http://", "https://", "@import", "url(", "//cdn"} {
				if strings.Contains(string(a.body), bad) {
					t.Errorf("%s contains %q", name, bad)
				}
			}
		}
	})
}

func TestHead(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	handlers := map[string]http.Handler{
		"landing":         s.Landing(testErrors),
		"header required": headerRequiredHandler(s, "https://api.example.com/"),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			get, getBody := serve(t, h, httptest.NewRequest(http.MethodGet, "/", nil))
			head, headBody := serve(t, h, httptest.NewRequest(http.MethodHead, "/", nil))
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD status %d, GET %d", head.StatusCode, get.StatusCode)
			}
			if headBody != "" {
				t.Errorf("HEAD wrote a %d-byte body", len(headBody))
			}
			if got := head.Header.Get("Content-Length"); got != strconv.Itoa(len(getBody)) {
				t.Errorf("HEAD Content-Length %q, GET body is %d bytes", got, len(getBody))
			}
			if head.Header.Get("Content-Security-Policy") == "" {
				t.Error("HEAD lacks the CSP")
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		name string
		host string
		tls  bool
		want string
	}{
		{"http", "proxy.example", false, "http://proxy.example"},
		{"https", "proxy.example", true, "https://proxy.example"},
		{"port", "127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"ipv6", "[::1]:8080", false, "http://[::1]:8080"},
		{"empty host", "", false, "http://localhost"},
		{"hostile host", `x"><script>`, false, "http://localhost"},
		{"path in host", "evil.example/path", true, "https://localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := baseURL(r); got != tt.want {
				t.Errorf("baseURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConcurrentRequests lets the race detector watch the shared Site.
func TestConcurrentRequests(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	handlers := []http.Handler{s.Landing(testErrors), s.Assets(testErrors), headerRequiredHandler(s, "https://a.example/")}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			h := handlers[i%len(handlers)]
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, AssetPrefix+"app.js", nil))
		})
	}
	wg.Wait()
}
