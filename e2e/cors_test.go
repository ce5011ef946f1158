package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// allowUpstream lets the proxy reach the upstream's loopback address, and
// only that one.
const allowUpstream = "CORSBRIDGE_ALLOW_PRIVATE=" + upstreamIP + "/32"

// TestBrowserReachesOnlyLoopback proves the harness: what is not loopback
// goes to the sink, which refuses it, so no test can send a packet away.
func TestBrowserReachesOnlyLoopback(t *testing.T) {
	page := startPage(t)
	ctx := openPage(t, page)
	b := e2e.browser

	for _, url := range []string{"http://e2e-sink-probe.invalid/x", "https://e2e-sink-probe.invalid/y"} {
		if res := probe(t, ctx, url, "{}"); res.Error == "" {
			t.Errorf("fetch %s: got status %d, want a network error", url, res.Status)
		}
	}
	hits := b.sink.take()
	slices.Sort(hits)
	hits = slices.Compact(hits) // a retry is fine; anything else is not
	if want := []string{"CONNECT e2e-sink-probe.invalid:443", "GET http://e2e-sink-probe.invalid/x"}; !slices.Equal(hits, want) {
		t.Errorf("sink recorded %q, want exactly %q", hits, want)
	}
}

// TestDirectFetchFailsWithoutProxy: the upstream sends no CORS headers, so
// the browser hides its answer from the page. Without this, the other tests
// would prove nothing about the proxy.
func TestDirectFetchFailsWithoutProxy(t *testing.T) {
	page := startPage(t)
	ctx := openPage(t, page)
	up := startUpstream(t)

	res := probe(t, ctx, up.URL+"/plain", "{}")
	if res.Error == "" {
		t.Fatalf("direct cross-origin fetch succeeded with status %d: the browser does not enforce CORS here", res.Status)
	}
	if !strings.Contains(res.Error, "TypeError") {
		t.Errorf("error = %q, want the TypeError of a CORS failure", res.Error)
	}
	// The request did reach the upstream: the browser refused the answer,
	// not the connection.
	got := up.waitFor(t, "/plain")
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests for /plain, want 1", len(got))
	}
	if origin := got[0].Header.Get("Origin"); origin != page.URL {
		t.Errorf("upstream saw Origin %q, want the page's %q", origin, page.URL)
	}
}

// TestProxiedGET: the same fetch through corsbridge succeeds, and a custom
// upstream header is readable from the page's script.
func TestProxiedGET(t *testing.T) {
	ctx := openPage(t, startPage(t))
	up := startUpstream(t)
	p := startProxy(t, allowUpstream)

	target := up.URL + "/plain"
	res := probe(t, ctx, p.URL+"/"+target, "{}")
	if res.Error != "" {
		t.Fatalf("fetch through the proxy failed: %s", res.Error)
	}
	if res.Status != http.StatusOK || res.Body != "hello from upstream" {
		t.Errorf("status %d body %q, want 200 %q", res.Status, res.Body, "hello from upstream")
	}
	for name, want := range map[string]string{
		"x-custom":      "custom-value",
		"x-request-url": target,
		"x-final-url":   target,
	} {
		if got := res.Headers[name]; got != want {
			t.Errorf("page read %s = %q, want %q (headers the page can read: %v)", name, got, want, res.Headers)
		}
	}
}

// TestPreflightedPUT: a PUT with a JSON body, a custom header and
// Authorization needs a preflight; the proxy answers it itself, and the
// upstream gets the real request intact.
func TestPreflightedPUT(t *testing.T) {
	ctx := openPage(t, startPage(t))
	up := startUpstream(t)
	p := startProxy(t, allowUpstream)

	const body = `{"item":42,"name":"widget"}`
	res := probe(t, ctx, p.URL+"/"+up.URL+"/echo", `{
		method: "PUT",
		headers: {"Content-Type": "application/json", "X-Custom-Request": "abc", "Authorization": "Bearer e2e-token"},
		body: JSON.stringify({item: 42, name: "widget"}),
	}`)
	if res.Error != "" {
		t.Fatalf("preflighted PUT through the proxy failed: %s", res.Error)
	}
	if res.Status != http.StatusOK || res.Body != `{"echo":"ok"}` {
		t.Errorf("status %d body %q, want 200 {\"echo\":\"ok\"}", res.Status, res.Body)
	}

	got := up.requests("/echo")
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests for /echo, want 1: %+v", len(got), up.all())
	}
	r := got[0]
	if r.Method != http.MethodPut || r.Body != body {
		t.Errorf("upstream got %s %q, want PUT %q", r.Method, r.Body, body)
	}
	for name, want := range map[string]string{
		"Content-Type":     "application/json",
		"X-Custom-Request": "abc",
		"Authorization":    "Bearer e2e-token",
	} {
		if v := r.Header.Get(name); v != want {
			t.Errorf("upstream got %s %q, want %q", name, v, want)
		}
	}
	for _, r := range up.all() {
		if r.Method == http.MethodOptions {
			t.Errorf("the preflight reached the upstream: %+v", r)
		}
	}
	// The browser did send a preflight, and the proxy answered it.
	deadline := time.Now().Add(2 * time.Second)
	for !slices.ContainsFunc(p.requests(), func(l logLine) bool { return l.Method == http.MethodOptions && l.Status == http.StatusNoContent }) {
		if time.Now().After(deadline) {
			t.Fatalf("no OPTIONS 204 in the proxy's request log: %+v", p.requests())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedirectFollowedByProxy: the proxy follows a 302 server-side; the page
// sees the final body and where it came from.
func TestRedirectFollowedByProxy(t *testing.T) {
	ctx := openPage(t, startPage(t))
	up := startUpstream(t)
	p := startProxy(t, allowUpstream)

	res := probe(t, ctx, p.URL+"/"+up.URL+"/redirect", "{}")
	if res.Error != "" {
		t.Fatalf("fetch through the proxy failed: %s", res.Error)
	}
	if res.Status != http.StatusOK || res.Body != "final body" {
		t.Errorf("status %d body %q, want 200 %q", res.Status, res.Body, "final body")
	}
	if want := up.URL + "/final?from=redirect"; res.Headers["x-final-url"] != want {
		t.Errorf("X-Final-URL = %q, want %q", res.Headers["x-final-url"], want)
	}
	if want := up.URL + "/redirect"; res.Headers["x-request-url"] != want {
		t.Errorf("X-Request-URL = %q, want %q", res.Headers["x-request-url"], want)
	}
	if res.Redirected {
		t.Errorf("the browser followed a redirect itself (response URL %s); the proxy should have", res.URL)
	}
	if n := len(up.requests("/final?from=redirect")); n != 1 {
		t.Errorf("upstream got %d requests for the redirect's target, want 1", n)
	}
}

// TestProxyErrorsReadable: the proxy's own refusals carry CORS headers, so
// the page reads the status and the JSON code instead of an opaque network
// error.
func TestProxyErrorsReadable(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		target  func(up *upstream) string
		okFirst int // requests that must succeed before the refused one
		status  int
		code    string
		check   func(t *testing.T, res probeResult)
	}{
		{
			name:   "target localhost",
			env:    []string{allowUpstream},
			target: func(up *upstream) string { return "http://localhost:" + up.port() + "/plain" },
			status: http.StatusForbidden, code: "target_forbidden",
		},
		{
			name:   "target loopback outside allow-private",
			env:    []string{allowUpstream},
			target: func(up *upstream) string { return "http://" + refusedIP + ":" + up.port() + "/plain" },
			status: http.StatusForbidden, code: "target_forbidden",
		},
		{
			name:   "origin not in allowlist",
			env:    []string{allowUpstream, "CORSBRIDGE_ALLOW_ORIGINS=https://app.example.com"},
			target: func(up *upstream) string { return up.URL + "/plain" },
			status: http.StatusForbidden, code: "origin_forbidden",
		},
		{
			name:    "rate limited",
			env:     []string{allowUpstream, "CORSBRIDGE_RATE_LIMIT=2/1m"},
			target:  func(up *upstream) string { return up.URL + "/plain" },
			okFirst: 2,
			status:  http.StatusTooManyRequests, code: "rate_limited",
			check: func(t *testing.T, res probeResult) {
				if s, err := strconv.Atoi(res.Headers["retry-after"]); err != nil || s <= 0 {
					t.Errorf("page read Retry-After %q, want a positive number of seconds", res.Headers["retry-after"])
				}
				if res.Headers["x-ratelimit-remaining"] != "0" || res.Headers["x-ratelimit-limit"] != "2" {
					t.Errorf("page read X-RateLimit-Limit %q, -Remaining %q; want 2, 0",
						res.Headers["x-ratelimit-limit"], res.Headers["x-ratelimit-remaining"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := openPage(t, startPage(t))
			up := startUpstream(t)
			p := startProxy(t, tt.env...)
			url := p.URL + "/" + tt.target(up)

			for i := range tt.okFirst {
				if res := probe(t, ctx, url, "{}"); res.Status != http.StatusOK {
					t.Fatalf("request %d: status %d %q, want 200", i+1, res.Status, res.Error)
				}
			}
			res := probe(t, ctx, url, "{}")
			if res.Error != "" {
				t.Fatalf("the page got an opaque network error instead of the proxy's %d: %s", tt.status, res.Error)
			}
			if res.Status != tt.status || res.Code != tt.code {
				t.Errorf("page read status %d code %q, want %d %q (body %s)", res.Status, res.Code, tt.status, tt.code, res.Body)
			}
			if res.Headers["x-corsbridge-error"] != tt.code {
				t.Errorf("page read X-Corsbridge-Error %q, want %q", res.Headers["x-corsbridge-error"], tt.code)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
			if n := len(up.all()); n != tt.okFirst {
				t.Errorf("upstream got %d requests, want %d: a refused request must not reach it", n, tt.okFirst)
			}
		})
	}
}
