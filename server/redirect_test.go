package server

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/corsbridge/corsbridge/proxy"
)

// redirector answers /hop/N with a redirect to /hop/N-1 and /hop/0 with 200;
// /to?code=C&loc=L redirects to L with status C.
func redirector(w http.ResponseWriter, r *http.Request) {
	if n, ok := strings.CutPrefix(r.URL.Path, "/hop/"); ok {
		i, _ := strconv.Atoi(n)
		if i > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(i-1), http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("arrived"))
		return
	}
	if r.URL.Path == "/to" {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.Header().Set("Location", r.URL.Query().Get("loc"))
		w.WriteHeader(code)
		return
	}
	w.Header().Set("X-Got-Method", r.Method)
	_, _ = w.Write([]byte("final"))
}

func TestRedirectsFollowed(t *testing.T) {
	upstream, rec := newUpstream(t, redirector)
	p := newProxy(t)
	tests := []struct {
		name       string
		code       int
		method     string
		wantMethod string
		wantBody   bool
	}{
		{"301 POST becomes GET", 301, "POST", "GET", false},
		{"302 POST becomes GET", 302, "POST", "GET", false},
		{"303 PUT becomes GET", 303, "PUT", "GET", false},
		{"307 keeps POST and body", 307, "POST", "POST", true},
		{"308 keeps PUT and body", 308, "PUT", "PUT", true},
		{"302 GET stays GET", 302, "GET", "GET", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/" + upstream.URL + "/to?code=" + strconv.Itoa(tt.code) + "&loc=/final"
			var body *bytes.Reader
			if tt.method != "GET" {
				body = bytes.NewReader([]byte("payload"))
			}
			var res *http.Response
			if body != nil {
				res, _ = p.do(t, tt.method, path, body, nil)
			} else {
				res, _ = p.do(t, tt.method, path, nil, nil)
			}
			if res.StatusCode != 200 || res.Header.Get("X-Got-Method") != tt.wantMethod {
				t.Fatalf("status %d, final method %q; want 200 %s", res.StatusCode, res.Header.Get("X-Got-Method"), tt.wantMethod)
			}
			final := rec.last(t)
			if got := string(final.Body); (got == "payload") != tt.wantBody {
				t.Errorf("final hop body = %q, want body replayed: %v", got, tt.wantBody)
			}
			if got := res.Header.Get("X-Final-Url"); got != upstream.URL+"/final" {
				t.Errorf("X-Final-Url = %q", got)
			}
			if got := res.Header.Get("X-Request-Url"); !strings.Contains(got, "/to?code=") {
				t.Errorf("X-Request-Url = %q", got)
			}
		})
	}
}

func TestRedirectLimit(t *testing.T) {
	upstream, _ := newUpstream(t, redirector)
	p := newProxy(t, func(d *Deps) { d.Config.MaxRedirects = 3 })

	res, body := p.do(t, "GET", "/"+upstream.URL+"/hop/3", nil, nil)
	if res.StatusCode != 200 || string(body) != "arrived" {
		t.Fatalf("3 hops with a limit of 3: status %d body %q", res.StatusCode, body)
	}

	res, _ = p.do(t, "GET", "/"+upstream.URL+"/hop/5", nil, nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("5 hops with a limit of 3: status %d, want the 302 back", res.StatusCode)
	}
	if got, want := res.Header.Get("Location"), "/"+upstream.URL+"/hop/1"; got != want {
		t.Errorf("Location = %q, want it through the proxy: %q", got, want)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("a returned redirect must carry CORS headers")
	}
}

func TestRedirectsNotFollowedWhenDisabled(t *testing.T) {
	upstream, _ := newUpstream(t, redirector)
	p := newProxy(t, func(d *Deps) { d.Config.MaxRedirects = 0 })
	tests := []struct{ name, loc, want string }{
		// Same origin: the browser's next request comes back through the proxy.
		{"same origin", "/next?y=1", "/" + upstream.URL + "/next?y=1"},
		// Another origin: straight there. Through the proxy the browser would
		// treat it as same-origin and resend Authorization and the body to a
		// host the page never named.
		{"other origin", "https://elsewhere.example/x?y=1", "https://elsewhere.example/x?y=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := p.do(t, "GET", "/"+upstream.URL+"/to?code=301&loc="+url.QueryEscape(tt.loc), nil, nil)
			if res.StatusCode != 301 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Location"); got != tt.want {
				t.Errorf("Location = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLargeBodyRedirect307ReturnedNotFollowed(t *testing.T) {
	upstream, rec := newUpstream(t, redirector)
	p := newProxy(t)
	big := bytes.Repeat([]byte("x"), proxy.ReplayLimit+1)
	res, _ := p.do(t, "POST", "/"+upstream.URL+"/to?code=307&loc=/final", bytes.NewReader(big), nil)
	if res.StatusCode != 307 {
		t.Fatalf("status %d, want the 307 handed back", res.StatusCode)
	}
	if got := res.Header.Get("Location"); got != "/"+upstream.URL+"/final" {
		t.Errorf("Location = %q", got)
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("upstream saw %d requests, want only the first", n)
	}
}

func TestCredentialsDroppedWhenRedirectChangesOrigin(t *testing.T) {
	other, otherRec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	upstream, rec := newUpstream(t, redirector)
	p := newProxy(t)
	headers := map[string]string{"Origin": "https://a.example", "Authorization": "Bearer secret", "Referer": "https://a.example/page"}

	p.do(t, "GET", "/"+upstream.URL+"/to?code=302&loc=/final", nil, headers)
	if got := rec.last(t).Header.Get("Authorization"); got != "Bearer secret" {
		t.Errorf("same-origin hop lost Authorization: %q", got)
	}

	p.do(t, "GET", "/"+upstream.URL+"/to?code=302&loc="+other.URL+"/x", nil, headers)
	got := otherRec.last(t)
	if v := got.Header.Get("Authorization"); v != "" {
		t.Errorf("cross-origin hop received Authorization %q", v)
	}
	if v := got.Header.Get("Referer"); v != "https://a.example/page" {
		t.Errorf("cross-origin hop Referer = %q, want the page's own, not the upstream URL", v)
	}
}

func TestRedirectToForbiddenTargetRefused(t *testing.T) {
	upstream, _ := newUpstream(t, redirector)
	p := newProxy(t)
	for _, loc := range []string{"http://localhost/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"} {
		t.Run(loc, func(t *testing.T) {
			res, body := p.do(t, "GET", "/"+upstream.URL+"/to?code=302&loc="+loc, nil, nil)
			checkErrorContract(t, res, body, 403, "target_forbidden")
		})
	}
}

// A redirect the proxy cannot follow because its Location is broken is the
// upstream's fault: 502, never the client's 400.
func TestBrokenRedirectIsTheUpstreamsFault(t *testing.T) {
	upstream, rec := newUpstream(t, redirector)
	p := newProxy(t)
	tests := []struct{ name, loc string }{
		{"empty host", "http:///"},
		{"empty host with a path", "https:///x/y"},
		{"unparseable host", "http://[::1"},
		{"unparseable escape", "http://example.com/%zz"},
		{"another scheme", "ftp://files.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.all())
			res, body := p.do(t, "GET", "/"+upstream.URL+"/to?code=302&loc="+url.QueryEscape(tt.loc), nil, nil)
			checkErrorContract(t, res, body, http.StatusBadGateway, "upstream_unreachable")
			if !bytes.Contains(body, []byte("upstream sent a redirect")) {
				t.Errorf("message does not blame the upstream's redirect: %s", body)
			}
			if n := len(rec.all()) - before; n != 1 {
				t.Errorf("upstream saw %d requests, want only the redirecting one", n)
			}
		})
	}
}
