package server

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// targetError says why a request path cannot be proxied, with the code the
// client sees: not_found for things that are plainly not targets (favicon.ico)
// and invalid_target for attempts that are malformed.
type targetError struct {
	code    errorCode
	message string
}

func (e *targetError) Error() string { return e.message }

func invalidTarget(message string) *targetError {
	return &targetError{code: codeInvalidTarget, message: message}
}

var errNotATarget = &targetError{
	code:    codeNotFound,
	message: "no such page; to proxy a URL, request /https://host/path",
}

// parseTarget turns the raw request URI of a proxy request into the upstream
// URL. It works on the raw bytes, never on the decoded path: the target's path
// and query reach the upstream byte for byte (%2F, %20, %26 and + untouched,
// no path cleaning), which is what the page asked for.
//
// Accepted forms:
//
//	/https://host[:port]/path?query   absolute target
//	/https:/host/path                 the same after a front proxy merged "//"
//	/host.example/path                bare host: https, or http when the port is 80
//	/?url=<percent-encoded URL>       query form
//
// Host rules (never-public names, IP spellings, IDN) are the allowlist's job;
// this only decides whether the text can be a URL at all.
func parseTarget(requestURI string) (*url.URL, error) {
	if !strings.HasPrefix(requestURI, "/") {
		// Absolute-form ("GET http://x/ HTTP/1.1") is a forward-proxy request.
		return nil, invalidTarget("forward-proxy requests are not supported; request /<url> instead")
	}
	rest := requestURI[1:]
	if rest == "" || rest[0] == '?' {
		return parseQueryForm(strings.TrimPrefix(rest, "?"))
	}
	return parseTargetString(rest, false)
}

func parseQueryForm(rawQuery string) (*url.URL, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, invalidTarget("malformed query string")
	}
	target := q.Get("url")
	if target == "" {
		return nil, errNotATarget
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i] // fragments are never sent to servers
	}
	return parseTargetString(target, true)
}

func parseTargetString(s string, fromQuery bool) (*url.URL, error) {
	scheme, rest, explicit, err := splitScheme(s)
	if err != nil {
		return nil, err
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, pathAndQuery := rest[:end], rest[end:]
	host, port, err := splitAuthority(authority)
	if err != nil {
		return nil, err
	}
	if !explicit {
		if !fromQuery && !looksLikeHost(host, port) {
			return nil, errNotATarget
		}
		scheme = "https"
		if port == "80" {
			scheme = "http"
		}
	}
	rawPath, rawQuery, hasQuery := strings.Cut(pathAndQuery, "?")
	if rawPath == "" {
		rawPath = "/"
	}
	if rawPath, err = cleanRaw(rawPath, "path"); err != nil {
		return nil, err
	}
	if rawQuery, err = cleanRaw(rawQuery, "query"); err != nil {
		return nil, err
	}
	hostport := host
	if port != "" {
		hostport = host + ":" + port
	}
	u := &url.URL{Scheme: scheme, Host: hostport, RawQuery: rawQuery, ForceQuery: hasQuery && rawQuery == ""}
	if err := setRawPath(u, rawPath); err != nil {
		return nil, err
	}
	return u, nil
}

// splitScheme finds an explicit "scheme:/" prefix. A single slash after the
// scheme is accepted because front proxies often merge "//" into "/".
func splitScheme(s string) (scheme, rest string, explicit bool, err error) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || colon+1 >= len(s) || s[colon+1] != '/' || !isSchemeName(s[:colon]) {
		return "", s, false, nil
	}
	scheme = strings.ToLower(s[:colon])
	if scheme != "http" && scheme != "https" {
		return "", "", false, invalidTarget("unsupported scheme " + strconv.Quote(scheme) + ": only http and https targets are proxied")
	}
	rest = s[colon+1:]
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
	} else {
		rest = rest[1:]
	}
	return scheme, rest, true, nil
}

func isSchemeName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func splitAuthority(authority string) (host, port string, err error) {
	if authority == "" {
		return "", "", invalidTarget("the target has no host")
	}
	if !utf8.ValidString(authority) {
		return "", "", invalidTarget("the target host is not valid UTF-8")
	}
	if strings.ContainsRune(authority, '@') {
		return "", "", invalidTarget("credentials in the target URL (user@host) are not allowed")
	}
	for i := 0; i < len(authority); i++ {
		switch c := authority[i]; {
		case c <= ' ' || c == 0x7f:
			return "", "", invalidTarget("the target host contains spaces or control characters")
		case strings.IndexByte(`%\"<>^`+"`{|}#", c) >= 0:
			return "", "", invalidTarget("the target host contains invalid characters")
		}
	}
	host = authority
	if strings.HasPrefix(authority, "[") {
		closing := strings.IndexByte(authority, ']')
		if closing < 0 {
			return "", "", invalidTarget("unterminated IPv6 literal in the target host")
		}
		host, port = authority[:closing+1], authority[closing+1:]
		if port != "" {
			if port[0] != ':' {
				return "", "", invalidTarget("unexpected characters after the IPv6 literal")
			}
			port = port[1:]
			if err := checkPort(port); err != nil {
				return "", "", err
			}
		}
		if _, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil {
			return "", "", invalidTarget("malformed IPv6 literal in the target host")
		}
		return host, port, nil
	}
	if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
		if strings.IndexByte(port, ':') >= 0 {
			return "", "", invalidTarget("IPv6 addresses must be written in brackets: [::1]")
		}
		if err := checkPort(port); err != nil {
			return "", "", err
		}
	}
	if host == "" || strings.Trim(host, ".") == "" {
		return "", "", invalidTarget("the target has no host")
	}
	return host, port, nil
}

func checkPort(port string) error {
	if port == "" || len(port) > 5 {
		return invalidTarget("the target port must be a number from 1 to 65535")
	}
	n := 0
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return invalidTarget("the target port must be a number from 1 to 65535")
		}
		n = n*10 + int(port[i]-'0')
	}
	if n < 1 || n > 65535 {
		return invalidTarget("the target port must be a number from 1 to 65535")
	}
	return nil
}

// looksLikeHost decides whether the first segment of a scheme-less path is a
// host the user meant to proxy, so /favicon.ico is a 404 and not a request to
// a host named "favicon.ico". Anything numeric is treated as a host on purpose:
// /127.1/ must reach the allowlist and be refused as loopback, not be a 404.
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
			return true // an internationalised TLD; the allowlist canonicalises it
		}
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isNumericLabel(label string) bool {
	if strings.HasPrefix(label, "0x") {
		return true
	}
	for i := 0; i < len(label); i++ {
		if label[i] < '0' || label[i] > '9' {
			return false
		}
	}
	return true
}

// fileExtensions are last labels that browsers and crawlers ask a web server
// for (favicon.ico, robots.txt) and that are not top-level domains.
var fileExtensions = map[string]struct{}{
	"ico": {}, "txt": {}, "png": {}, "jpg": {}, "jpeg": {}, "gif": {}, "svg": {}, "webp": {},
	"css": {}, "js": {}, "mjs": {}, "map": {}, "json": {}, "xml": {}, "html": {}, "htm": {},
	"php": {}, "asp": {}, "aspx": {}, "jsp": {}, "cgi": {}, "webmanifest": {}, "woff": {}, "woff2": {},
	"env": {}, "git": {}, "bak": {}, "old": {}, "sql": {}, "yml": {}, "yaml": {}, "ini": {},
}

// cleanRaw rejects what can never be part of a valid request target and
// percent-encodes raw non-ASCII bytes, as a browser would before sending.
func cleanRaw(s, part string) (string, error) {
	needsEncoding := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return "", invalidTarget("the target " + part + " contains spaces or control characters; percent-encode them")
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

// setRawPath makes u carry rawPath exactly as given on the upstream request
// line. url.URL re-escapes a path whose raw form uses characters it would not
// have produced itself; Opaque keeps those bytes untouched.
func setRawPath(u *url.URL, rawPath string) error {
	decoded, err := url.PathUnescape(rawPath)
	if err != nil {
		return invalidTarget("malformed percent-encoding in the target path")
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

// targetString renders u for X-Request-URL, X-Final-URL and redirects. It
// differs from u.String only for the Opaque form set by setRawPath.
func targetString(u *url.URL) string {
	if u.Opaque == "" || strings.HasPrefix(u.Opaque, "//") {
		return u.String()
	}
	s := u.Scheme + "://" + u.Host + u.Opaque
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}
