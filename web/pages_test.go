package web

import (
	"crypto/tls"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestLandingShowsPolicy(t *testing.T) {
	tests := []struct {
		name    string
		info    func(*Info)
		want    []string // in the page's text, HTML entities decoded
		notWant []string
	}{
		{
			name: "defaults",
			info: func(*Info) {},
			want: []string{
				"Rate limit per origin</dt><dd>600 requests per minute",
				"Rate limit per client IP</dt><dd>60 requests per minute",
				"by each instance on its own",
				"Allowed origins</dt><dd>any</dd>",
				"one of <code>Origin</code>, <code>X-Requested-With</code>",
				"Request body</dt><dd>up to 10 MiB",
				"Response body</dt><dd>up to 50 MiB",
				"Redirects</dt><dd>up to 5 followed",
				"Target ports</dt><dd>any</dd>",
				"refused; only public internet addresses can be targets",
				`<span class="version">v1.2.3</span>`,
				// A cross-origin page needs no header of its own; a terminal does.
				`curl -i -H "X-Requested-With: x" '<span class="js-base">http://proxy.example</span>/https://api.example.com/v1/items?page=1'`,
				`fetch("<span class="js-base">http://proxy.example</span>/https://api.example.com/v1/items?page=1");`,
			},
			notWant: []string{"headers: {", "allowed for"},
		},
		{
			name: "origins, shared limits, private ranges, ports",
			info: func(i *Info) {
				i.AllowedOrigins = []string{"https://app.example", " https://admin.example "}
				i.SharedLimits = true
				i.AllowPrivate = []string{"10.1.0.0/16", "fd00::/8"}
				i.AllowPorts = []string{"443", "8443"}
				i.MaxRequestBody = 1536
				i.MaxRedirects = 1
			},
			want: []string{
				`<code class="long">https://app.example</code>, <code class="long">https://admin.example</code>`,
				"across all instances (shared through Redis)",
				`allowed for <code class="long">10.1.0.0/16</code>, <code class="long">fd00::/8</code>; other private`,
				"<code>443</code>, <code>8443</code>",
				"Request body</dt><dd>up to 1.5 KiB",
				"Redirects</dt><dd>up to 1 followed",
			},
			notWant: []string{"Allowed origins</dt><dd>any", "refused; only public"},
		},
		{
			name: "everything off",
			info: func(i *Info) {
				*i = Info{OriginLimit: "off", ClientLimit: ""}
			},
			want: []string{
				"Rate limit per origin</dt><dd>off",
				"Rate limit per client IP</dt><dd>off",
				"Request body</dt><dd>no limit",
				"Response body</dt><dd>no limit",
				"Redirects</dt><dd>not followed",
				"Required header</dt><dd>none",
				`curl -i '<span class="js-base">`,
			},
			notWant: []string{`class="version"`, "-H "},
		},
		{
			name: "only X-Requested-With required",
			info: func(i *Info) { i.RequireHeader = []string{"x-requested-with"} },
			want: []string{
				`headers: { "X-Requested-With": "x" },`,
				"Send an <code>X-Requested-With</code> header with every request.",
			},
		},
		{
			name: "only Origin required",
			info: func(i *Info) {
				i.RequireHeader = []string{"Origin"}
				i.AllowedOrigins = []string{"https://app.example"}
			},
			want:    []string{`curl -i -H "Origin: https://app.example" '`},
			notWant: []string{"headers: {"},
		},
		{
			name: "hostile values are escaped",
			info: func(i *Info) {
				i.Version = "<script>alert(1)</script>"
				i.AllowedOrigins = []string{`"><img src=x onerror=alert(1)>`}
			},
			want:    []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x"},
			notWant: []string{"<script>alert", "<img src=x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := defaultInfo()
			tt.info(&info)
			s := newTestSite(t, info)
			r := httptest.NewRequest(http.MethodGet, "http://proxy.example/", nil)
			res, body := serve(t, s.Landing(), r)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			text := body
			if !strings.Contains(tt.name, "hostile") {
				text = html.UnescapeString(body)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

func TestPageHeaders(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	pages := []struct {
		name       string
		h          http.Handler
		status     int
		cache      string
		proxyError string
	}{
		{"landing", s.Landing(), http.StatusOK, "no-cache", ""},
		{"header required", headerRequiredHandler(s, "https://api.example.com/"), http.StatusBadRequest, "no-store", "header_required"},
	}
	want := map[string]string{
		"Content-Type": "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			res, body := serve(t, p.h, httptest.NewRequest(http.MethodGet, "/", nil))
			if res.StatusCode != p.status {
				t.Errorf("status %d, want %d", res.StatusCode, p.status)
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := res.Header.Get("Cache-Control"); got != p.cache {
				t.Errorf("Cache-Control = %q, want %q", got, p.cache)
			}
			if got := res.Header.Get("X-Corsbridge-Error"); got != p.proxyError {
				t.Errorf("X-Corsbridge-Error = %q, want %q", got, p.proxyError)
			}
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %q, body is %d bytes", got, len(body))
			}
			// The CSP forbids inline code; the page must not rely on any.
			for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "javascript:"} {
				if strings.Contains(body, bad) {
					t.Errorf("page contains inline code %q", bad)
				}
			}
			if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, `<script src="`+AssetPrefix) {
				t.Errorf("page has %d script tags, want exactly one, from %s", n, AssetPrefix)
			}
		})
	}
}

func headerRequiredHandler(s *Site, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.HeaderRequired(w, r, target)
	})
}

// attrURL finds every URL-valued attribute.
var attrURL = regexp.MustCompile(`(?i)\b(?:src|href|action|srcset|poster|formaction|data)\s*=\s*["']?([^"'\s>]*)`)

func TestNoExternalURLs(t *testing.T) {
	s := newTestSite(t, Info{AllowedOrigins: []string{"https://app.example"}})
	pages := map[string]http.Handler{
		"landing":         s.Landing(),
		"header required": headerRequiredHandler(s, "https://api.example.com/v1"),
	}
	for name, h := range pages {
		t.Run(name, func(t *testing.T) {
			_, body := serve(t, h, httptest.NewRequest(http.MethodGet, "http://proxy.example/", nil))
			found := attrURL.FindAllStringSubmatch(body, -1)
			if len(found) == 0 {
				t.Fatal("no src or href at all; is the pattern broken?")
			}
			for _, m := range found {
				u := html.UnescapeString(m[1])
				local := strings.HasPrefix(u, "#") || (strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"))
				if !local && !strings.HasPrefix(u, "http://proxy.example/") {
					t.Errorf("%s points off this instance: %q", strings.SplitN(m[0], "=", 2)[0], u)
				}
			}
		})
	}
	t.Run("assets", func(t *testing.T) {
		for _, name := range []string{"app.js", "style.css"} {
			a := s.assets.byName[name]
			for _, bad := range []string{"http://", "https://", "@import", "url(", "//cdn"} {
				if strings.Contains(string(a.body), bad) {
					t.Errorf("%s contains %q", name, bad)
				}
			}
		}
	})
}

func TestHeaderRequired(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		want    []string // raw HTML
		notWant []string
	}{
		{
			name:   "plain target",
			target: "https://api.b.com/v1/items?x=1&y=2",
			want: []string{
				"https://api.b.com/v1/items?x=1&amp;y=2",
				`curl -H "X-Requested-With: x" '<span class="js-base">http://proxy.example</span>/https://api.b.com/v1/items?x=1&amp;y=2'`,
				`fetch("<span class="js-base">http://proxy.example</span>/https://api.b.com/v1/items?x=1&amp;y=2")`,
				`<a href="/">`,
				`<meta name="robots" content="noindex">`,
			},
		},
		{
			name:    "hostile target",
			target:  `https://x.test/"><script>alert(1)</script>`,
			want:    []string{"&lt;script&gt;alert(1)&lt;/script&gt;"},
			notWant: []string{"<script>alert", `"><script`},
		},
		{
			// The template's own quotes are literal; the target's are
			// quoted for the shell or JavaScript, then escaped for HTML.
			name:   "quotes are quoted for shell and JavaScript",
			target: `https://x.test/it's"here`,
			want: []string{
				`/https://x.test/it&#39;\&#39;&#39;s&#34;here'`,
				`/https://x.test/it&#39;s\&#34;here")`,
			},
		},
		{
			name:   "empty target",
			target: "",
			want:   []string{"(no target URL)"},
		},
	}
	s := newTestSite(t, defaultInfo())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://proxy.example/whatever", nil)
			res, body := serve(t, headerRequiredHandler(s, tt.target), r)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

func TestHead(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	handlers := map[string]http.Handler{
		"landing":         s.Landing(),
		"header required": headerRequiredHandler(s, "https://api.example.com/"),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			get, getBody := serve(t, h, httptest.NewRequest(http.MethodGet, "/", nil))
			head, headBody := serve(t, h, httptest.NewRequest(http.MethodHead, "/", nil))
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD status %d, GET %d", head.StatusCode, get.StatusCode)
			}
			if headBody != "" {
				t.Errorf("HEAD wrote a %d-byte body", len(headBody))
			}
			if got := head.Header.Get("Content-Length"); got != strconv.Itoa(len(getBody)) {
				t.Errorf("HEAD Content-Length %q, GET body is %d bytes", got, len(getBody))
			}
			if head.Header.Get("Content-Security-Policy") == "" {
				t.Error("HEAD lacks the CSP")
			}
		})
	}
}

func TestLandingRefuses(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodDelete, "/", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, "/index.html", http.StatusNotFound, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res, body := serve(t, s.Landing(), httptest.NewRequest(tt.method, tt.path, nil))
			checkProxyError(t, res, body, tt.status, tt.code)
			if tt.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", res.Header.Get("Allow"))
			}
		})
	}
}

// checkProxyError asserts the JSON error contract.
func checkProxyError(t *testing.T, res *http.Response, body string, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d", res.StatusCode, status)
	}
	if got := res.Header.Get("X-Corsbridge-Error"); got != code {
		t.Errorf("X-Corsbridge-Error = %q, want %q", got, code)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("body %q: want {code: %q, message}, err %v", body, code, err)
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		name string
		host string
		tls  bool
		want string
	}{
		{"http", "proxy.example", false, "http://proxy.example"},
		{"https", "proxy.example", true, "https://proxy.example"},
		{"port", "127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"ipv6", "[::1]:8080", false, "http://[::1]:8080"},
		{"empty host", "", false, "http://localhost"},
		{"hostile host", `x"><script>`, false, "http://localhost"},
		{"path in host", "evil.example/path", true, "https://localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := baseURL(r); got != tt.want {
				t.Errorf("baseURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConcurrentRequests lets the race detector watch the shared Site.
func TestConcurrentRequests(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	handlers := []http.Handler{s.Landing(), s.Assets(), headerRequiredHandler(s, "https://a.example/")}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			h := handlers[i%len(handlers)]
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, AssetPrefix+"app.js", nil))
		})
	}
	wg.Wait()
}

// TestLandingPrerender proves that splicing a base URL into the pre-rendered
// page gives exactly what the template writes for that base URL.
func TestLandingPrerender(t *testing.T) {
	s := newTestSite(t, defaultInfo())
	if n := len(s.landingParts) - 1; n < 4 {
		t.Fatalf("the base URL goes in %d places, want the hero and every example", n)
	}
	hosts := []string{"proxy.example", "127.0.0.1:8080", "[::1]:9", "", `a"b`, "x<y>", "a&b", "é.example"}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = host
			base := baseURL(r)
			var want strings.Builder
			if err := s.landing.ExecuteTemplate(&want, "layout", s.data(base, "")); err != nil {
				t.Fatal(err)
			}
			_, got := serve(t, s.Landing(), r)
			if got != want.String() {
				t.Errorf("pre-rendered page for %q differs from the template's", base)
			}
			if strings.Contains(got, basePlaceholder) {
				t.Error("the placeholder leaked")
			}
		})
	}
}
