package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsbridge/corsbridge/web"
)

// TestProxyRoutesSkipChiSameAnswers: the router's shortcut for proxy
// requests answers exactly as chi does, for every method and every kind of
// path, with and without the landing page and /metrics mounted.
func TestProxyRoutesSkipChiSameAnswers(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", r.Method)
	})
	paths := []string{
		"/", "/?url=" + upstream.URL + "/q", "/healthz", "/healthz/", "/readyz", "/metrics",
		"/%68ealthz", web.AssetPrefix, web.AssetPrefix + "app.js", "/favicon.ico", "/robots.txt",
		"/" + upstream.URL + "/x", "/" + upstream.URL + "/%2F?a=b", "/" + upstream.URL[len("http://"):] + "/y",
		"/http:/" + upstream.URL[len("http://"):], "/https://10.0.0.1/", "/ftp://example.com/",
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
		"CONNECT", "TRACE", "TRACK", "PURGE", "PROPFIND", "trace", "get"}
	setups := map[string][]func(*Deps){
		"bare": nil,
		"site and metrics": {withSite(t), func(d *Deps) {
			d.Metrics = prometheus.NewRegistry()
			d.Config.ServeMetrics = true
		}},
	}
	for name, options := range setups {
		t.Run(name, func(t *testing.T) {
			srv := newProxy(t, options...).Server
			rt, ok := srv.handler.(*router)
			if !ok {
				t.Fatalf("handler is %T, want *router", srv.handler)
			}
			shortcut := 0
			for _, method := range methods {
				for _, path := range paths {
					if isProxyRoute(httptest.NewRequest(method, path, nil)) {
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
