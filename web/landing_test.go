package web

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
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
				"Target ports</dt><dd>any, except those browsers refuse (25, 6667, ...)</dd>",
				"refused; only public internet addresses can be targets",
				`<span class="version">v1.2.3</span>`,
				// A cross-origin page needs no header of its own; a terminal does.
				`curl -i -H "X-Requested-With: x" '<span class="js-base">http://proxy.example</span>/https://api.example.com/v1/items?page=1'`,
				`fetch("<span class="js-base">http://proxy.example</span>/https://api.example.com/v1/items?page=1");`,
				"Access key</dt><dd>not used</dd>",
			},
			notWant: []string{"headers: {", "allowed for", `id="try-key"`, "with-key", "X-Corsbridge-Key"},
		},
		{
			name: "key required",
			info: func(i *Info) { i.RequireKey = true },
			want: []string{
				"Access key</dt><dd>required (<code>X-Corsbridge-Key</code> header or <code>corsbridge_key</code> parameter)</dd>",
				"This instance requires an access key: send it in an <code>X-Corsbridge-Key</code> header",
				// Every example sends the key; the page, which sends Origin by
				// itself, needs no other header.
				`curl -i -H "X-Requested-With: x" -H "X-Corsbridge-Key: YOUR_KEY" '<span class="js-base">`,
				`fetch("<span class="js-base">http://proxy.example</span>/https://api.example.com/v1/items?page=1", {
  headers: { "X-Corsbridge-Key": "YOUR_KEY" },
});`,
				`axios.get("<span class="js-base">http://proxy.example</span>/https://api.example.com/v1/items?page=1", {
  headers: { "X-Corsbridge-Key": "YOUR_KEY" },
});`,
				`<form id="try-form" class="try with-key" novalidate>`,
				`<label for="try-key">Key</label>`,
				`<input id="try-key" name="key" type="password" autocomplete="off"`,
			},
			notWant: []string{"(optional)", "a key lifts you"},
		},
		{
			name: "key required with a custom header",
			info: func(i *Info) {
				i.RequireKey = true
				i.RequireHeader = []string{"X-Api-Client"}
			},
			want: []string{
				`headers: { "X-Api-Client": "x", "X-Corsbridge-Key": "YOUR_KEY" },`,
				`curl -i -H "X-Api-Client: x" -H "X-Corsbridge-Key: YOUR_KEY" '`,
			},
		},
		{
			name: "keys optional",
			info: func(i *Info) { i.KeysEnabled = true },
			want: []string{
				"Access key</dt><dd>optional: a key lifts you to its own limits</dd>",
				"If you have an access key, send it in an <code>X-Corsbridge-Key</code> header",
				`<label for="try-key">Key <span class="optional">(optional)</span></label>`,
				`type="password" autocomplete="off"`,
				"as <code>X-Corsbridge-Key</code>: never in the URL, never stored",
			},
			// The examples work without a key, so they show none.
			notWant: []string{"headers: {", "YOUR_KEY", "requires an access key"},
		},
		{
			name: "origins, shared limits, private ranges, ports",
			info: func(i *Info) {
				i.AllowedOrigins = []string{"https://app.example", " https://admin.example "}
				i.SharedLimits = true
				i.CacheSize, i.SharedCache = 64<<20, true
				i.AllowPrivate = []string{"10.1.0.0/16", "fd00::/8"}
				i.AllowPorts = []string{"443", "8443"}
				i.MaxRequestBody = 1536
				i.MaxRedirects = 1
			},
			want: []string{
				`<code class="long">https://app.example</code>, <code class="long">https://admin.example</code>`,
				"across all instances (shared through Redis)",
				"Response cache</dt><dd>up to 64 MiB in memory, shared between instances through Redis",
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
				"Response cache</dt><dd>off",
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
			res, body := serve(t, s.Landing(testErrors), r)
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
			res, body := serve(t, s.Landing(testErrors), httptest.NewRequest(tt.method, tt.path, nil))
			checkProxyError(t, res, body, tt.status, tt.code)
			if tt.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", res.Header.Get("Allow"))
			}
		})
	}
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
			_, got := serve(t, s.Landing(testErrors), r)
			if got != want.String() {
				t.Errorf("pre-rendered page for %q differs from the template's", base)
			}
			if strings.Contains(got, basePlaceholder) {
				t.Error("the placeholder leaked")
			}
		})
	}
}
