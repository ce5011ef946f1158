package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRunCorsAnywhereMaxZero: cors-anywhere's documented recipe for "only
// these origins" starts, serves the listed origins without an origin limit,
// and refuses every other origin, and requests without one, with 403
// origin_forbidden.
func TestRunCorsAnywhereMaxZero(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	inst := start(t, map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8",
		"CORSANYWHERE_RATELIMIT":   `0 1 /(.*\.)?example\.com/`,
	})
	res, err := http.Get(inst.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	landing, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(landing), `/(.*\.)?example\.com/`) {
		t.Errorf("the landing page does not list the only origins served:\n%.2000s", landing)
	}
	for _, tt := range []struct {
		name, origin string
		status       int
		code         string
	}{
		{"listed apex", "https://example.com", 200, ""},
		{"listed subdomain over http", "http://app.example.com", 200, ""},
		{"listed subdomain again, not counted", "http://app.example.com", 200, ""},
		{"not listed", "https://evil.example", 403, "origin_forbidden"},
		{"suffix trick", "https://example.com.evil.example", 403, "origin_forbidden"},
		{"null", "null", 403, "origin_forbidden"},
		{"no origin", "", 403, "origin_forbidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", inst.base+"/"+upstream.URL+"/x", nil)
			req.Header.Set("X-Requested-With", "test")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || res.Header.Get("X-Corsbridge-Error") != tt.code {
				t.Fatalf("status %d, error %q, body %q; want %d %q", res.StatusCode, res.Header.Get("X-Corsbridge-Error"), body, tt.status, tt.code)
			}
			if tt.code != "" {
				var e struct{ Code string }
				if json.Unmarshal(body, &e) != nil || e.Code != tt.code {
					t.Errorf("body %q is not the error contract for %q", body, tt.code)
				}
				return
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.origin {
				t.Errorf("Access-Control-Allow-Origin = %q, want the origin %q", got, tt.origin)
			}
			if res.Header.Get("X-Ratelimit-Limit") == "1200" {
				return // the client limit still counts, as for any exempt origin
			}
			t.Errorf("X-RateLimit-Limit = %q, want the client limit only", res.Header.Get("X-Ratelimit-Limit"))
		})
	}
}
