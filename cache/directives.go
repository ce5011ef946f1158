package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// directives are the Cache-Control directives the cache acts on, from a
// request or a response. Absent durations are -1, so "max-age=0" (stale at
// once) differs from no max-age at all.
type directives struct {
	noStore, noCache, private, public  bool
	mustRevalidate, proxyRevalidate    bool
	maxAge, sMaxAge                    time.Duration
	staleWhileRevalidate, staleIfError time.Duration
}

// maxDelta caps delta-seconds: RFC 9111 section 1.2.2 says a larger value
// means "2^31 seconds", and it keeps the arithmetic far from overflow.
const maxDelta = time.Duration(1<<31) * time.Second

// parseDirectives reads every Cache-Control field line in h. It follows RFC
// 9111 section 4.2.1 where the RFC leaves a choice: a directive repeated
// with conflicting values, or a delta that does not parse, counts as stale
// (0) rather than being ignored, and qualified forms of private and no-cache
// (private="Set-Cookie") count as unqualified, which only stores less.
func parseDirectives(h http.Header) directives {
	d := directives{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}
	for _, line := range h["Cache-Control"] {
		for line != "" {
			var item string
			item, line = nextItem(line)
			name, value, _ := strings.Cut(item, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch name {
			case "no-store":
				d.noStore = true
			case "no-cache":
				d.noCache = true
			case "private":
				d.private = true
			case "public":
				d.public = true
			case "must-revalidate":
				d.mustRevalidate = true
			case "proxy-revalidate":
				d.proxyRevalidate = true
			case "max-age":
				d.maxAge = mergeDelta(d.maxAge, value)
			case "s-maxage":
				d.sMaxAge = mergeDelta(d.sMaxAge, value)
			case "stale-while-revalidate":
				d.staleWhileRevalidate = mergeDelta(d.staleWhileRevalidate, value)
			case "stale-if-error":
				d.staleIfError = mergeDelta(d.staleIfError, value)
			}
		}
	}
	return d
}

// nextItem splits off one comma-separated directive, keeping commas inside
// a quoted string (no-cache="Set-Cookie, Set-Cookie2") in the directive.
func nextItem(s string) (item, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// mergeDelta combines a repeated directive: the first value stands unless a
// later one disagrees, and then the response is treated as stale.
func mergeDelta(prev time.Duration, value string) time.Duration {
	d := parseDelta(value)
	if prev >= 0 && prev != d {
		return 0
	}
	return d
}

// parseDelta reads delta-seconds (digits only); anything else is 0.
func parseDelta(s string) time.Duration {
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || time.Duration(n) > maxDelta/time.Second {
		return maxDelta
	}
	return time.Duration(n) * time.Second
}

// parseAge reads the Age header: delta-seconds, 0 when absent or invalid
// (RFC 9111 section 5.1 says to ignore an invalid Age).
func parseAge(h http.Header) time.Duration {
	v := h.Get("Age")
	if v == "" {
		return 0
	}
	return parseDelta(strings.TrimSpace(v))
}

// parseHTTPDate reads an HTTP date header (name in canonical form); ok is
// false when it is absent or invalid.
func parseHTTPDate(h http.Header, name string) (time.Time, bool) {
	v := get(h, name)
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}

// get is Header.Get for a name already in canonical form: the map read
// alone. Header.Get canonicalises its argument on every call, which was
// about 1 % of a cache hit's CPU over the half dozen headers a lookup reads
// (docs/performance.md, "Cache hits (issue 14)").
func get(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
