package server

import (
	"net/http"
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
