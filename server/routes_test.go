package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/corsbridge/corsbridge/web"
)

// TestEveryOwnResponseHasCORS: whatever route answers, and whether it
// succeeds or fails, a page can read the answer. Before the CORS layer, the
// asset routes' own 404 carried X-Corsbridge-Error but no
// Access-Control-Allow-Origin.
func TestEveryOwnResponseHasCORS(t *testing.T) {
	p := newProxy(t, withSite(t), withMetrics, func(d *Deps) { d.Config.ServeMetrics = true })
	tests := []struct {
		name, method, path string
		status             int
		code               string // "" for a success
	}{
		{"missing asset", "GET", web.AssetPrefix + "nope.css", http.StatusNotFound, "not_found"},
		{"asset, wrong method", "POST", web.AssetPrefix + "app.js", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"landing page", "GET", "/", http.StatusOK, ""},
		{"landing, wrong method", "POST", "/", http.StatusNotFound, "not_found"},
		{"healthz", "GET", "/healthz", http.StatusOK, ""},
		{"readyz", "GET", "/readyz", http.StatusOK, ""},
		{"metrics", "GET", "/metrics", http.StatusOK, ""},
		{"a fixed route with a method it lacks is a proxy path", "DELETE", "/healthz", http.StatusNotFound, "not_found"},
		{"unknown method", "PURGE", "/https://example.com/", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"favicon", "GET", "/favicon.ico", http.StatusNotFound, "not_found"},
		{"trace", "TRACE", "/https://example.com/", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := p.do(t, tt.method, tt.path, nil, map[string]string{"Origin": "https://page.example"})
			if tt.code != "" {
				checkErrorContract(t, res, body, tt.status, tt.code)
				return
			}
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 {
				t.Errorf("Access-Control-Allow-Origin = %q, want exactly one", got)
			}
		})
	}
}

// TestProxyRoutesSkipChiSameAnswers: the router's shortcut for proxy
// requests answers exactly as chi does, for every method and every kind of
// path, with and without the landing page and /metrics mounted.
func TestProxyRoutesSkipChiSameAnswers(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", r.Method)
	})
	paths := []string{
		"/", "/?url=" + upstream.URL + "/q", "/healthz", "/healthz/", "/readyz", "/metrics", UsagePath, UsagePath + "/",
		"/%68ealthz", web.AssetPrefix, web.AssetPrefix + "app.js", "/favicon.ico", "/robots.txt",
		"/" + upstream.URL + "/x", "/" + upstream.URL + "/%2F?a=b", "/" + upstream.URL[len("http://"):] + "/y",
		"/http:/" + upstream.URL[len("http://"):], "/https://10.0.0.1/", "/ftp://example.com/",
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
		"CONNECT", "TRACE", "TRACK", "PURGE", "PROPFIND", "trace", "get"}
	setups := []struct {
		name    string
		options []func(*Deps)
	}{
		{"bare", nil},
		{"site and metrics", []func(*Deps){withSite(t), withMetrics, func(d *Deps) { d.Config.ServeMetrics = true }}},
	}
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			srv := newProxy(t, setup.options...).Server
			rt, ok := srv.handler.(*router)
			if !ok {
				t.Fatalf("handler is %T, want *router", srv.handler)
			}
			shortcut := 0
			for _, method := range methods {
				for _, path := range paths {
					if rt.isProxyRoute(httptest.NewRequest(method, path, nil)) {
						shortcut++
					}
					viaRouter := serveRecorded(rt, method, path)
					viaChi := serveRecorded(rt.chi, method, path)
					for _, h := range []string{HeaderError, "X-Request-Url", "X-Upstream", "Access-Control-Allow-Origin", "Allow", "Content-Type"} {
						if viaRouter.Code != viaChi.Code || viaRouter.Header().Get(h) != viaChi.Header().Get(h) {
							t.Errorf("%s %s: router %d %s=%q, chi %d %s=%q", method, path,
								viaRouter.Code, h, viaRouter.Header().Get(h), viaChi.Code, h, viaChi.Header().Get(h))
							break
						}
					}
				}
			}
			if shortcut == 0 {
				t.Error("no request took the shortcut")
			}
		})
	}
}

func serveRecorded(h http.Handler, method, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Origin", "https://app.example")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
