package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsbridge/corsbridge/allowlist"
)

func TestPreflightAnsweredNotForwarded(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	tests := []struct {
		name    string
		deps    func(*Deps)
		headers map[string]string
		want    map[string]string // header -> value; "" means absent
	}{
		{
			name: "reflects method and headers",
			headers: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "put",
				"Access-Control-Request-Headers": "content-type,authorization,x-custom"},
			want: map[string]string{
				"Access-Control-Allow-Origin":          "*",
				"Access-Control-Allow-Methods":         "PUT",
				"Access-Control-Allow-Headers":         "content-type,authorization,x-custom",
				"Access-Control-Max-Age":               "600",
				"Vary":                                 "Access-Control-Request-Method, Access-Control-Request-Headers",
				"Access-Control-Allow-Credentials":     "",
				"Access-Control-Allow-Private-Network": "",
			},
		},
		{
			name:    "configured max age",
			deps:    func(d *Deps) { d.Config.CORSMaxAge = 7200e9 },
			headers: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE"},
			want:    map[string]string{"Access-Control-Max-Age": "7200", "Access-Control-Allow-Methods": "DELETE"},
		},
		{
			name:    "private network access off by default",
			headers: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Private-Network": "true"},
			want:    map[string]string{"Access-Control-Allow-Private-Network": ""},
		},
		{
			name:    "private network access on",
			deps:    func(d *Deps) { d.Config.PrivateNetworkAccess = true },
			headers: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Private-Network": "true"},
			want:    map[string]string{"Access-Control-Allow-Private-Network": "true"},
		},
		{
			name: "origin allowlist echoes the origin",
			deps: func(d *Deps) {
				d.Policy = loopbackPolicy(t, func(c *allowlist.Config) { c.AllowOrigins = []string{"https://app.example"} })
			},
			headers: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
			want: map[string]string{"Access-Control-Allow-Origin": "https://app.example",
				"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*Deps)
			if tt.deps != nil {
				opts = append(opts, tt.deps)
			}
			p := newProxy(t, opts...)
			before := len(rec.all())
			res, _ := p.do(t, "OPTIONS", "/"+upstream.URL+"/x", nil, tt.headers)
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d, want 204", res.StatusCode)
			}
			for name, want := range tt.want {
				got := res.Header.Values(name)
				if want == "" && len(got) != 0 || want != "" && !slices.Equal(got, []string{want}) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if len(rec.all()) != before {
				t.Errorf("the preflight was forwarded to the upstream")
			}
		})
	}
}

func TestAllowOriginExactlyOnceEverywhere(t *testing.T) {
	upstream, _ := newUpstream(t, hostile)
	p := newProxy(t, func(d *Deps) {
		d.Policy = loopbackPolicy(t, func(c *allowlist.Config) { c.AllowOrigins = []string{"https://app.example"} })
	})
	tests := []struct {
		name, path, origin string
		wantStatus         int
	}{
		{"proxied", "/" + upstream.URL + "/x", "https://app.example", 200},
		{"refused origin can read why", "/" + upstream.URL + "/x", "https://evil.example", 403},
		{"not found", "/favicon.ico", "https://app.example", 404},
		{"health", "/healthz", "https://app.example", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := p.do(t, "GET", tt.path, nil, map[string]string{"Origin": tt.origin})
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.wantStatus, body)
			}
			if got := res.Header.Values("Access-Control-Allow-Origin"); tt.path != "/healthz" && !slices.Equal(got, []string{tt.origin}) {
				t.Errorf("Access-Control-Allow-Origin = %q, want exactly %q", got, tt.origin)
			}
			if tt.path != "/healthz" && !slices.Contains(strings.Split(strings.Join(res.Header.Values("Vary"), ","), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin", res.Header.Values("Vary"))
			}
			if v := res.Header.Get("Access-Control-Allow-Credentials"); v != "" {
				t.Errorf("credentials allowed: %q", v)
			}
		})
	}
}

func TestOriginRefusedWithReadableError(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, func(d *Deps) {
		d.Policy = loopbackPolicy(t, func(c *allowlist.Config) {
			c.AllowOrigins = []string{"https://*.example.com"}
			c.DenyOrigins = []string{"https://bad.example.com"}
		})
	})
	for _, origin := range []string{"https://bad.example.com", "https://other.test", "null"} {
		t.Run(origin, func(t *testing.T) {
			res, body := p.do(t, "GET", "/"+upstream.URL+"/x", nil, map[string]string{"Origin": origin})
			checkErrorContract(t, res, body, 403, "origin_forbidden")
		})
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("upstream received %d requests from refused origins", n)
	}
}
