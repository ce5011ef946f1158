package allowlist

import (
	"net/url"
	"strings"
)

// looksLikeHost decides whether the first segment of a scheme-less path is a host the user
// meant to proxy, so /favicon.ico is a 404 and not a request to a host named "favicon.ico".
// Anything numeric is treated as a host on purpose: /127.1/ must reach the policy and be
// refused as loopback, not be a 404.
func looksLikeHost(host, port string) bool {
	if port != "" || strings.HasPrefix(host, "[") || strings.EqualFold(host, "localhost") {
		return true
	}
	trimmed := strings.TrimSuffix(host, ".")
	dot := strings.LastIndexByte(trimmed, '.')
	if dot < 0 {
		return false
	}
	tld := strings.ToLower(trimmed[dot+1:])
	if tld == "" {
		return false
	}
	if isNumericLabel(tld) {
		return true
	}
	if _, isFile := fileExtensions[tld]; isFile {
		return false
	}
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		c := tld[i]
		if c >= 0x80 {
			return true // an internationalised TLD; CheckTarget canonicalises it
		}
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isNumericLabel(label string) bool {
	return strings.HasPrefix(label, "0x") || allDigits(label)
}

// fileExtensions are last labels that browsers and crawlers ask a web server for
// (favicon.ico, robots.txt) and that are not top-level domains. Read-only.
var fileExtensions = map[string]struct{}{
	"ico": {}, "txt": {}, "png": {}, "jpg": {}, "jpeg": {}, "gif": {}, "svg": {}, "webp": {},
	"css": {}, "js": {}, "mjs": {}, "map": {}, "json": {}, "xml": {}, "html": {}, "htm": {},
	"php": {}, "asp": {}, "aspx": {}, "jsp": {}, "cgi": {}, "webmanifest": {}, "woff": {}, "woff2": {},
	"env": {}, "git": {}, "bak": {}, "old": {}, "sql": {}, "yml": {}, "yaml": {}, "ini": {},
}

// cleanRaw rejects what can never be part of a valid request target and percent-encodes raw
// non-ASCII bytes, as a browser would before sending.
func cleanRaw(s, part string) (string, error) {
	needsEncoding := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return "", invalid("the target " + part + " contains spaces or control characters; percent-encode them")
		case c >= 0x80:
			needsEncoding = true
		}
	}
	if !needsEncoding {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// setRawPath makes u carry rawPath exactly as given on the upstream request line. url.URL
// re-escapes a path whose raw form uses characters it would not have produced itself; Opaque
// keeps those bytes untouched.
func setRawPath(u *url.URL, rawPath string) error {
	decoded, err := url.PathUnescape(rawPath)
	if err != nil {
		return invalid("malformed percent-encoding in the target path")
	}
	u.Path, u.RawPath = decoded, rawPath
	if u.EscapedPath() == rawPath {
		return nil
	}
	u.RawPath = ""
	if strings.HasPrefix(rawPath, "//") {
		u.Opaque = "//" + u.Host + rawPath
	} else {
		u.Opaque = rawPath
	}
	return nil
}
