package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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

func headerRequiredHandler(s *Site, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.HeaderRequired(w, r, target, testErrors)
	})
}

// TestHeaderRequiredWithKey: when a key is required, the examples send it.
func TestHeaderRequiredWithKey(t *testing.T) {
	info := defaultInfo()
	info.RequireKey = true
	s := newTestSite(t, info)
	r := httptest.NewRequest(http.MethodGet, "http://proxy.example/whatever", nil)
	_, body := serve(t, headerRequiredHandler(s, "https://api.b.com/"), r)
	for _, w := range []string{
		`curl -H "X-Requested-With: x" -H "X-Corsbridge-Key: YOUR_KEY" '<span class="js-base">`,
		`headers: { "X-Corsbridge-Key": "YOUR_KEY" },`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}
