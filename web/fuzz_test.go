package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPages feeds hostile Host headers and targets to both pages: the
// pre-rendered landing page must match the template, and neither page may
// gain markup from its input.
func FuzzPages(f *testing.F) {
	for _, seed := range []struct{ host, target string }{
		{"proxy.example", "https://api.example.com/v1?x=1"},
		{"[::1]:8080", `https://x.test/"><script>alert(1)</script>`},
		{`a"b<c>`, "javascript:alert(1)"},
		{"", "it's \"quoted\" \\ \u2028 </code></pre>"},
	} {
		f.Add(seed.host, seed.target)
	}
	s := newTestSite(f, defaultInfo())
	// The page for a harmless target has the shape every other must keep.
	tags := []string{"<script", "<img", "<a ", "<code", "<pre", "<span"}
	shape := map[string]int{}
	rec := httptest.NewRecorder()
	s.HeaderRequired(rec, httptest.NewRequest(http.MethodGet, "/", nil), "https://example.com/", testErrors)
	for _, tag := range tags {
		shape[tag] = strings.Count(rec.Body.String(), tag)
	}
	f.Fuzz(func(t *testing.T, host, target string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host

		var want strings.Builder
		if err := s.landing.ExecuteTemplate(&want, "layout", s.data(baseURL(r), "")); err != nil {
			t.Fatal(err)
		}
		if got := string(s.landingPage(baseURL(r))); got != want.String() {
			t.Fatalf("host %q: pre-rendered landing page differs from the template's", host)
		}

		rec := httptest.NewRecorder()
		s.HeaderRequired(rec, r, target, testErrors)
		body := rec.Body.String()
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
		for _, tag := range tags {
			if got := strings.Count(body, tag); got != shape[tag] {
				t.Fatalf("target %q: %d %s tags, want %d", target, got, tag, shape[tag])
			}
		}
	})
}
