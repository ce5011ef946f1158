package cache

import (
	"net/http"
	"time"
)

// Reasons a response is not stored, as the log and tests name them.
const (
	reasonMethod        = "method"
	reasonStatus        = "status"
	reasonNoStore       = "no-store"
	reasonPrivate       = "private"
	reasonNoCache       = "no-cache"
	reasonSetCookie     = "set-cookie"
	reasonVaryStar      = "vary-star"
	reasonAuthorization = "authorization"
	reasonNoFreshness   = "no-freshness"
	reasonStale         = "stale-on-arrival"
	reasonTooLarge      = "too-large"
	reasonRedirected    = "redirected"
)

// freshness is what the cache keeps about an entry's lifetime (RFC 9111
// section 4.2): its corrected initial age when it arrived, its freshness
// lifetime, and the windows in which it may be served stale.
type freshness struct {
	responseTime time.Time
	initialAge   time.Duration
	lifetime     time.Duration
	swr, sie     time.Duration // stale-while-revalidate, stale-if-error
}

// age is the entry's current age (RFC 9111 section 4.2.3).
func (f freshness) age(now time.Time) time.Duration {
	resident := max(now.Sub(f.responseTime), 0)
	return f.initialAge + resident
}

// ttl is the freshness left: negative once stale.
func (f freshness) ttl(now time.Time) time.Duration { return f.lifetime - f.age(now) }

// keepFor is how long the entry is worth keeping from now: fresh, then
// as long as one of its stale windows lasts.
func (f freshness) keepFor(now time.Time) time.Duration {
	return f.ttl(now) + max(f.swr, f.sie)
}

// cacheableByDefault lists the statuses RFC 9110 section 15.1 calls
// heuristically cacheable, less 206: partial content is never stored.
func cacheableByDefault(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// decide says whether a response may be stored (reason "" when it may) and
// with which freshness. requestTime and responseTime bracket the upstream
// exchange, for the age calculation.
func (c *Cache) decide(authorized bool, res *http.Response, requestTime, responseTime time.Time) (freshness, string) {
	if res.Request != nil && res.Request.Method != http.MethodGet {
		return freshness{}, reasonMethod
	}
	if res.StatusCode < 200 || res.StatusCode == http.StatusPartialContent || res.StatusCode == http.StatusNotModified {
		return freshness{}, reasonStatus
	}
	h := res.Header
	d := parseDirectives(h)
	switch {
	case d.noStore:
		return freshness{}, reasonNoStore
	case d.private:
		return freshness{}, reasonPrivate
	case d.noCache:
		// Storing it would mean a revalidation per request: no gain.
		return freshness{}, reasonNoCache
	case len(h["Set-Cookie"]) > 0 || len(h["Set-Cookie2"]) > 0:
		return freshness{}, reasonSetCookie
	case varyStar(h):
		return freshness{}, reasonVaryStar
	case authorized && !d.public && d.sMaxAge < 0 && !d.mustRevalidate:
		// RFC 9111 section 3.5.
		return freshness{}, reasonAuthorization
	case res.ContentLength > c.cfg.MaxEntry:
		return freshness{}, reasonTooLarge
	}
	lifetime, ok := c.lifetime(d, res, responseTime)
	if !ok {
		return freshness{}, reasonNoFreshness
	}
	f := freshness{responseTime: responseTime, lifetime: lifetime, initialAge: initialAge(h, requestTime, responseTime)}
	// must-revalidate, proxy-revalidate and s-maxage (which implies
	// proxy-revalidate) forbid serving the entry stale.
	if !d.mustRevalidate && !d.proxyRevalidate && d.sMaxAge < 0 {
		f.swr = c.capTTL(max(d.staleWhileRevalidate, 0))
		f.sie = c.capTTL(max(d.staleIfError, 0))
	}
	if f.keepFor(responseTime) <= 0 {
		return freshness{}, reasonStale
	}
	return f, ""
}

// lifetime is the freshness lifetime of a shared cache (RFC 9111 section
// 4.2.1): s-maxage, then max-age, then Expires minus Date, then the
// operator's default TTL for responses cacheable by default (or public);
// capped at MaxTTL. ok is false when the response has none.
func (c *Cache) lifetime(d directives, res *http.Response, responseTime time.Time) (time.Duration, bool) {
	h := res.Header
	switch {
	case d.sMaxAge >= 0:
		return c.capTTL(d.sMaxAge), true
	case d.maxAge >= 0:
		return c.capTTL(d.maxAge), true
	case h.Get("Expires") != "":
		expires, ok := parseHTTPDate(h, "Expires")
		if !ok {
			return 0, true // an invalid Expires means already expired
		}
		date, ok := parseHTTPDate(h, "Date")
		if !ok {
			date = responseTime
		}
		return c.capTTL(max(expires.Sub(date), 0)), true
	case c.cfg.DefaultTTL > 0 && (cacheableByDefault(res.StatusCode) || d.public):
		return c.capTTL(c.cfg.DefaultTTL), true
	}
	return 0, false
}

func (c *Cache) capTTL(d time.Duration) time.Duration {
	if c.cfg.MaxTTL > 0 && d > c.cfg.MaxTTL {
		return c.cfg.MaxTTL
	}
	return d
}

// initialAge is corrected_initial_age of RFC 9111 section 4.2.3.
func initialAge(h http.Header, requestTime, responseTime time.Time) time.Duration {
	apparent := time.Duration(0)
	if date, ok := parseHTTPDate(h, "Date"); ok {
		apparent = max(responseTime.Sub(date), 0)
	}
	corrected := parseAge(h) + max(responseTime.Sub(requestTime), 0)
	return max(apparent, corrected)
}

func varyStar(h http.Header) bool {
	for _, name := range varyNames(h) {
		if name == "*" {
			return true
		}
	}
	return false
}
