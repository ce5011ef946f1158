package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// csp allows the page its own script, style, images and same-origin fetches
// (the live "try it" form), and nothing else: no inline code, no framing, no
// form posts, no <base> tricks.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageData is what the templates see.
type pageData struct {
	Base string // best guess at this instance's URL; app.js replaces it with location.origin
	Info infoView

	// The header-required page only.
	Target      string // the target as the visitor typed it; the template escapes it
	TargetJS    string // Target inside a JavaScript string literal, without the quotes
	TargetShell string // Target inside shell single quotes, without the quotes
}

func (s *Site) data(base, target string) pageData {
	return pageData{
		Base:        base,
		Info:        s.info,
		Target:      target,
		TargetJS:    jsStringBody(target),
		TargetShell: shellQuoteBody(target),
	}
}

// Landing serves the landing page at "/" for GET and HEAD.
func (s *Site) Landing(fail ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			fail(w, r, "method_not_allowed", "the landing page answers GET and HEAD only")
			return
		}
		if r.URL.Path != "/" {
			fail(w, r, "not_found", "not found")
			return
		}
		// The page names its own Host, so shared caches must ask each time.
		writePage(w, r, http.StatusOK, "no-cache", s.landingPage(baseURL(r)))
	})
}

// landingPage joins the pre-rendered landing page with a base URL.
func (s *Site) landingPage(base string) []byte {
	n := len(base) * (len(s.landingParts) - 1)
	for _, p := range s.landingParts {
		n += len(p)
	}
	page := make([]byte, 0, n)
	for i, p := range s.landingParts {
		if i > 0 {
			page = append(page, base...)
		}
		page = append(page, p...)
	}
	return page
}

// HeaderRequired writes the friendly 400 page for a browser that navigated to
// /<target> without the header the proxy requires: what corsbridge is, the
// target they tried, and code that calls it properly. It carries the
// X-Corsbridge-Error header like any other proxy error.
func (s *Site) HeaderRequired(w http.ResponseWriter, r *http.Request, target string, fail ErrorWriter) {
	// Render into memory first, so a failure is a clean error, not half a page.
	var buf bytes.Buffer
	if err := s.headerRequired.ExecuteTemplate(&buf, "layout", s.data(baseURL(r), target)); err != nil {
		// New rendered this template once, so this is a bug, never input.
		fail(w, r, "unavailable", "the page could not be rendered")
		return
	}
	w.Header().Set("X-Corsbridge-Error", "header_required")
	writePage(w, r, http.StatusBadRequest, "no-store", buf.Bytes())
}

// writePage sends a page with the headers every page carries.
func writePage(w http.ResponseWriter, r *http.Request, status int, cache string, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Set("Cache-Control", cache)
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(page) // a write error means the client left
	}
}

// baseURL guesses this instance's URL from the request: https when the
// connection is TLS, else http, and the Host header. Behind a TLS-terminating
// front proxy the guess says http; app.js replaces it with location.origin.
// Host is the client's to choose, so anything but host characters is ignored;
// the result never holds a character HTML would escape, which is what lets
// Landing splice it into the pre-rendered page.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune(".-_:[]", c):
		default:
			return false
		}
	}
	return true
}

// jsStringBody quotes s for a double-quoted JavaScript string literal and
// drops the quotes. JSON strings are valid JavaScript strings; the template
// escapes the result again for HTML.
func jsStringBody(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(strings.TrimSuffix(buf.String(), "\n"), `"`)[1:]
}

// shellQuoteBody quotes s for a single-quoted POSIX shell word and drops the
// outer quotes: each quote in s closes the word, adds an escaped quote and
// reopens it.
func shellQuoteBody(s string) string {
	return strings.ReplaceAll(s, `'`, `'\''`)
}
