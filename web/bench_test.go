package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkLanding measures a landing page request against a reference that
// writes the same bytes and headers from one fixed slice: the difference is
// what the per-request work costs (the base URL guess and splice).
func BenchmarkLanding(b *testing.B) {
	s := newTestSite(b, defaultInfo())
	r := httptest.NewRequest(http.MethodGet, "http://proxy.example/", nil)
	_, page := serve(b, s.Landing(testErrors), r)
	prerendered := []byte(page)

	b.Run("landing", func(b *testing.B) {
		h := s.Landing(testErrors)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(discard{}, r)
		}
	})
	b.Run("reference-prerendered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writePage(discard{}, r, http.StatusOK, "no-cache", prerendered)
		}
	})
}

func BenchmarkAsset(b *testing.B) {
	s := newTestSite(b, defaultInfo())
	h := s.Assets(testErrors)
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
