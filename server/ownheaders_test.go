package server

import (
	"net/http"
	"slices"
	"testing"
)

// TestOwnHeadersBesideTheUpstreams: the proxy's sandbox is added to an
// upstream's own Content-Security-Policy, never replacing it, and its nosniff
// replaces the upstream's value.
func TestOwnHeadersBesideTheUpstreams(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("X-Content-Type-Options", "sniff-away")
	})
	p := newProxy(t)
	res, _ := p.do(t, "GET", "/"+upstream.URL+"/csp", nil, nil)
	if got := res.Header.Values("Content-Security-Policy"); !slices.Equal(got, []string{"default-src 'self'", "sandbox"}) {
		t.Errorf("Content-Security-Policy = %q", got)
	}
	if got := res.Header.Values("X-Content-Type-Options"); !slices.Equal(got, []string{"nosniff"}) {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if req, final := res.Header.Values("X-Request-Url"), res.Header.Values("X-Final-Url"); !slices.Equal(req, []string{upstream.URL + "/csp"}) || !slices.Equal(final, req) {
		t.Errorf("X-Request-Url = %q, X-Final-Url = %q", req, final)
	}
}
