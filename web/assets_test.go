package web

import (
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strconv"
	"testing"
)

func TestAssets(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	// The page links to hashed names; find them the way a browser would.
	_, page := serve(t, s.Landing(testErrors), httptest.NewRequest(http.MethodGet, "/", nil))
	linked := regexp.MustCompile(`(?:src|href)="(`+regexp.QuoteMeta(AssetPrefix)+`[^"]+)"`).FindAllStringSubmatch(page, -1)
	hashed := map[string]bool{}
	for _, m := range linked {
		hashed[m[1]] = true
	}
	if len(hashed) != 3 {
		t.Fatalf("page links %d distinct assets (%v), want app.js, style.css and icon.svg", len(hashed), hashed)
	}

	type test struct {
		name  string
		path  string
		strip string // mounted behind http.StripPrefix(strip, ...)
		ctype string
		cache string
	}
	tests := []test{
		{"script", AssetPrefix + "app.js", "", "text/javascript; charset=utf-8", cachePlain},
		{"style", AssetPrefix + "style.css", "", "text/css; charset=utf-8", cachePlain},
		{"icon", AssetPrefix + "icon.svg", "", "image/svg+xml", cachePlain},
		{"prefix stripped", AssetPrefix + "app.js", AssetPrefix, "text/javascript; charset=utf-8", cachePlain},
		{"prefix stripped but the slash", AssetPrefix + "style.css", "/_corsbridge", "text/css; charset=utf-8", cachePlain},
	}
	for p := range hashed {
		ctype, _ := contentType(path.Ext(p))
		tests = append(tests, test{"hashed " + p, p, "", ctype, cacheHashed})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := s.Assets(testErrors)
			if tt.strip != "" {
				h = http.StripPrefix(tt.strip, h)
			}
			res, body := serve(t, h, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if res.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if body == "" {
				t.Error("empty body")
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}

			// The ETag turns a revalidation into a 304.
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			r.Header.Set("If-None-Match", etag)
			res, body = serve(t, h, r)
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("If-None-Match: status %d with %d bytes, want 304 and none", res.StatusCode, len(body))
			}

			// HEAD answers like GET, without the body.
			res, body = serve(t, h, httptest.NewRequest(http.MethodHead, tt.path, nil))
			if res.StatusCode != http.StatusOK || body != "" {
				t.Errorf("HEAD: status %d with %d bytes, want 200 and none", res.StatusCode, len(body))
			}
			if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n == 0 {
				t.Errorf("HEAD: Content-Length %q", res.Header.Get("Content-Length"))
			}
		})
	}
}

func TestAssetsRefuse(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown", http.MethodGet, AssetPrefix + "nope.js", http.StatusNotFound, "not_found"},
		{"stale hash", http.MethodGet, AssetPrefix + "app.000000000000.js", http.StatusNotFound, "not_found"},
		{"the prefix itself", http.MethodGet, AssetPrefix, http.StatusNotFound, "not_found"},
		{"a template", http.MethodGet, AssetPrefix + "templates/layout.html", http.StatusNotFound, "not_found"},
		{"the static dir", http.MethodGet, AssetPrefix + "static/app.js", http.StatusNotFound, "not_found"},
		{"traversal", http.MethodGet, AssetPrefix + "../web.go", http.StatusNotFound, "not_found"},
		{"post", http.MethodPost, AssetPrefix + "app.js", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := serve(t, s.Assets(testErrors), httptest.NewRequest(tt.method, tt.path, nil))
			checkProxyError(t, res, body, tt.status, tt.code)
		})
	}
}
