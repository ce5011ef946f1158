package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Headers of the proxy's own that a page may read. They are exposed on every
// response the proxy generates and appended to the upstream's on proxied ones.
var ownExposedHeaders = []string{
	"X-Request-Url", "X-Final-Url", "X-Request-Id", HeaderError,
	"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Ratelimit-Policy", "Ratelimit", "Retry-After",
}

// CORS-safelisted response headers are always readable; listing them again
// only makes the header longer.
var safelistedResponseHeaders = map[string]bool{
	"Cache-Control": true, "Content-Language": true, "Content-Length": true,
	"Content-Type": true, "Expires": true, "Last-Modified": true, "Pragma": true,
}

// cors holds the CORS answer, normalised once at start-up so the hot path
// only copies strings.
type cors struct {
	// echoOrigin: an origin allowlist is configured, so the answer names the
	// exact origin and caches must vary on it. Otherwise "*".
	echoOrigin    bool
	maxAge        string
	privateNet    bool
	ownExposed    string
	preflightVary string
}

func newCORS(echoOrigin bool, maxAgeSeconds int, privateNetworkAccess bool) *cors {
	vary := "Access-Control-Request-Method, Access-Control-Request-Headers"
	if echoOrigin {
		vary = "Origin, " + vary
	}
	if privateNetworkAccess {
		vary += ", Access-Control-Request-Private-Network"
	}
	return &cors{
		echoOrigin:    echoOrigin,
		maxAge:        strconv.Itoa(maxAgeSeconds),
		privateNet:    privateNetworkAccess,
		ownExposed:    strings.Join(ownExposedHeaders, ", "),
		preflightVary: vary,
	}
}

// allowOrigin sets Access-Control-Allow-Origin exactly once. With an origin
// allowlist, even a refused origin is named, so the page can read the 403
// that tells it why. Credentials are never allowed: the proxy drops cookies
// both ways, and "*" would be invalid with them anyway.
func (c *cors) allowOrigin(h http.Header, origin string) {
	if !c.echoOrigin {
		h["Access-Control-Allow-Origin"] = []string{"*"}
		return
	}
	h.Add("Vary", "Origin")
	if origin != "" {
		h["Access-Control-Allow-Origin"] = []string{origin}
	} else {
		delete(h, "Access-Control-Allow-Origin")
	}
}

// exposeUpstream lists every header of a proxied response, and ours, so
// fetch() can read them all. "*" would also work without credentials, but
// older browsers ignore it.
func (c *cors) exposeUpstream(h http.Header) {
	// On the stack unless a response has more than 32 headers.
	var stack [32]string
	names := stack[:0]
	for name := range h {
		names = append(names, name)
	}
	h["Access-Control-Expose-Headers"] = []string{c.exposeList(names)}
}

// exposeList is Access-Control-Expose-Headers for a response with these
// header names (each once; the slice is reused): the response's own but the
// safelisted and Access-Control-*, sorted, then ours it lacks.
func (c *cors) exposeList(names []string) string {
	listed := names[:0]
	for _, name := range names {
		if !safelistedResponseHeaders[name] && !strings.HasPrefix(name, "Access-Control-") {
			listed = append(listed, name)
		}
	}
	slices.Sort(listed)
	// None of ours is safelisted or Access-Control-*, so listed has them
	// all when the response has them.
	upstream := len(listed)
	for _, own := range ownExposedHeaders {
		if !slices.Contains(listed[:upstream], own) {
			listed = append(listed, own)
		}
	}
	return strings.Join(listed, ", ")
}

func (c *cors) exposeOwn(h http.Header) {
	h["Access-Control-Expose-Headers"] = []string{c.ownExposed}
}

// isPreflight: an OPTIONS request carrying Access-Control-Request-Method is
// the browser asking permission, answered here. A plain OPTIONS is forwarded.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a CORS preflight. Methods and headers reflect what the
// browser asked for: the proxy forwards any method except those refused
// outright, and any header, so listing a fixed set would only break pages.
// Access-Control-Allow-Origin is allowCORS's, as on every answer.
func (c *cors) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Vary", c.preflightVary)
	h.Set("Access-Control-Allow-Methods", strings.ToUpper(r.Header.Get("Access-Control-Request-Method")))
	if requested := r.Header.Values("Access-Control-Request-Headers"); len(requested) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(requested, ", "))
	}
	h.Set("Access-Control-Max-Age", c.maxAge)
	if c.privateNet && strings.EqualFold(r.Header.Get("Access-Control-Request-Private-Network"), "true") {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}
