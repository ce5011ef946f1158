package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkLanding measures a landing page request against a reference that
// writes the same bytes pre-rendered: the difference is the template's cost.
func BenchmarkLanding(b *testing.B) {
	s := newTestSite(b, defaultInfo())
	r := httptest.NewRequest(http.MethodGet, "http://proxy.example/", nil)
	_, page := serve(b, s.Landing(), r)
	prerendered := []byte(page)

	b.Run("template", func(b *testing.B) {
		h := s.Landing()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(discard{}, r)
		}
	})
	b.Run("reference-prerendered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := discard{}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(prerendered)
		}
	})
}

func BenchmarkAsset(b *testing.B) {
	s := newTestSite(b, defaultInfo())
	h := s.Assets()
	r := httptest.NewRequest(http.MethodGet, AssetPrefix+"app.js", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(discard{}, r)
	}
}

// discard is a ResponseWriter that keeps nothing, so the benchmarks measure
// the handler rather than a recorder.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
