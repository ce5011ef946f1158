package server

import (
	"github.com/corsbridge/corsbridge/allowlist"

	"net/http"
	"strings"
	"testing"

	"github.com/corsbridge/corsbridge/ratelimit"
)

func withLimits(t *testing.T, origin, client string, exempt ...string) func(*Deps) {
	t.Helper()
	o, err := ratelimit.ParseLimit(origin)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ratelimit.ParseLimit(client)
	if err != nil {
		t.Fatal(err)
	}
	set, err := allowlist.NewOriginKeySet(exempt)
	if err != nil {
		t.Fatal(err)
	}
	return func(d *Deps) { d.RateLimit = &ratelimit.Config{Origin: o, Client: c, Exempt: set.MatchKey} }
}

func TestRateLimitedResponsesAreReadable(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, withLimits(t, "3/1m", "off"))
	origin := map[string]string{"Origin": "https://busy.example"}

	// Preflights are answered before the limiter and never count.
	for range 5 {
		res, _ := p.do(t, "OPTIONS", "/"+upstream.URL+"/", nil, map[string]string{
			"Origin": "https://busy.example", "Access-Control-Request-Method": "PUT"})
		if res.StatusCode != 204 {
			t.Fatalf("preflight: %d", res.StatusCode)
		}
	}
	for i, wantRemaining := range []string{"2", "1", "0"} {
		res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, origin)
		if res.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, res.StatusCode)
		}
		if got := res.Header.Get("X-Ratelimit-Remaining"); got != wantRemaining {
			t.Errorf("request %d: X-RateLimit-Remaining = %q, want %s", i, got, wantRemaining)
		}
		if got := res.Header.Get("X-Ratelimit-Limit"); got != "3" {
			t.Errorf("X-RateLimit-Limit = %q", got)
		}
		if exposed := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, "X-Ratelimit-Remaining") {
			t.Errorf("quota headers not exposed: %q", exposed)
		}
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, origin)
	checkErrorContract(t, res, body, 429, "rate_limited")
	if res.Header.Get("Retry-After") == "" || res.Header.Get("X-Ratelimit-Reset") == "" {
		t.Errorf("429 without Retry-After or X-RateLimit-Reset: %v", res.Header)
	}
	exposed := res.Header.Get("Access-Control-Expose-Headers")
	for _, h := range []string{"Retry-After", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s not exposed on the 429: %q", h, exposed)
		}
	}
	if n := len(rec.all()); n != 3 {
		t.Errorf("upstream saw %d requests, want 3", n)
	}

	// Another origin has its own quota; the same origin in another case and
	// scheme shares it.
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://calm.example"}); res.StatusCode != 200 {
		t.Errorf("another origin: %d", res.StatusCode)
	}
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "http://BUSY.example"}); res.StatusCode != 429 {
		t.Errorf("same origin, other scheme and case: %d", res.StatusCode)
	}
}

func TestRateLimitExemptOriginAndClientLimit(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, withLimits(t, "1/1m", "4/1m", "*.trusted.example"))
	for i := range 4 {
		res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://app.trusted.example"})
		if res.StatusCode != 200 {
			t.Fatalf("exempt origin request %d: %d", i, res.StatusCode)
		}
	}
	// The client limit still applies to everyone from this address.
	res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://app.trusted.example"})
	checkErrorContract(t, res, body, 429, "rate_limited")
}

func TestReadyzReportsRateLimitBackend(t *testing.T) {
	tests := []struct {
		name string
		deps []func(*Deps)
		want string
	}{
		{"no limits", nil, `"rate_limit":"not_configured"`},
		{"local limits", []func(*Deps){withLimits(t, "10/1m", "off")}, `"rate_limit":"not_configured"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProxy(t, tt.deps...)
			res, body := p.do(t, "GET", "/readyz", nil, nil)
			if res.StatusCode != 200 || !strings.Contains(string(body), tt.want) {
				t.Errorf("readyz: %d %s, want %s", res.StatusCode, body, tt.want)
			}
			p.Server.Drain()
			res, body = p.do(t, "GET", "/readyz", nil, nil)
			if res.StatusCode != 503 || !strings.Contains(string(body), "draining") {
				t.Errorf("readyz while draining: %d %s", res.StatusCode, body)
			}
		})
	}
}
