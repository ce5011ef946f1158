package server

import (
	"encoding/json"
	"net/http"
	"testing"
)

// Health, readiness and metrics answer however busy the limits are, and
// are never taken for proxy targets.
func TestOperationalEndpointsAreNeverLimited(t *testing.T) {
	upstream, rec := newUpstream(t, func(http.ResponseWriter, *http.Request) {})
	p := newProxy(t, withMetrics, withLimits(t, "1/1m", "1/1m"))
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 200 {
		t.Fatalf("first proxied request: %d", res.StatusCode)
	}
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 429 {
		t.Fatalf("second proxied request: %d, want 429", res.StatusCode)
	}
	for range 5 {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
			res, body := p.do(t, "GET", path, nil, nil)
			var got struct{ Status string }
			if res.StatusCode != 200 || json.Unmarshal(body, &got) != nil || got.Status != want {
				t.Fatalf("%s while limited: %d %s", path, res.StatusCode, body)
			}
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Ratelimit-Limit") != "" {
				t.Errorf("%s headers: %v", path, res.Header)
			}
		}
		if res, _ := p.do(t, "GET", "/metrics", nil, nil); res.StatusCode != 200 {
			t.Fatalf("/metrics while limited: %d", res.StatusCode)
		}
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("the upstream saw %d requests, want 1", n)
	}
	p.Server.Drain()
	res, body := p.do(t, "GET", "/readyz", nil, nil)
	if res.StatusCode != 503 {
		t.Errorf("readyz while draining: %d %s", res.StatusCode, body)
	}
	if res, _ := p.do(t, "GET", "/healthz", nil, nil); res.StatusCode != 200 {
		t.Errorf("healthz while draining: %d (alive, only not ready)", res.StatusCode)
	}
}
