package allowlist

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseTarget turns the raw request URI of a proxy request into the upstream URL. It works
// on the raw bytes, never on the decoded path: the target's path and query reach the
// upstream byte for byte (%2F, %20, %26 and + untouched, no path cleaning), which is what
// the page asked for.
//
// Accepted forms:
//
//	/https://host[:port]/path?query   absolute target
//	/https:/host/path                 the same after a front proxy merged "//"
//	///host/path                      protocol-relative (fetch(proxy + "//host/path")): https,
//	                                  or http when the port is 80
//	/host.example/path                bare host: https, or http when the port is 80
//	/?url=<percent-encoded URL>       query form (any of the above without the leading "/")
//
// A path that is plainly not a target (/favicon.ico) is an *Error of KindNotATarget; a
// malformed one is KindInvalid. Host rules (never-public names, IP spellings, IDN) are
// CheckTarget's job; this only decides whether the text can be a URL at all.
func ParseTarget(requestURI string) (*url.URL, error) {
	if !strings.HasPrefix(requestURI, "/") {
		// Absolute-form ("GET http://x/ HTTP/1.1") is a forward-proxy request.
		return nil, invalid("forward-proxy requests are not supported; request /<url> instead")
	}
	rest := requestURI[1:]
	if rest == "" || rest[0] == '?' {
		return parseQueryForm(strings.TrimPrefix(rest, "?"))
	}
	return parseTargetString(rest, false)
}

func errNotATarget() *Error {
	return &Error{Kind: KindNotATarget, Reason: "the path is not a target; request /https://host/path"}
}

func parseQueryForm(rawQuery string) (*url.URL, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, invalid("malformed query string")
	}
	target := q.Get("url")
	if target == "" {
		return nil, errNotATarget()
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i] // fragments are never sent to servers
	}
	return parseTargetString(target, true)
}

// schemeForm says how a target string names its scheme.
type schemeForm int

const (
	schemeBare     schemeForm = iota // host.example/path
	schemeExplicit                   // https://host.example/path or https:/host.example/path
	schemeRelative                   // //host.example/path
)

func parseTargetString(s string, fromQuery bool) (*url.URL, error) {
	scheme, rest, form, err := splitScheme(s)
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
	if form != schemeExplicit {
		if form == schemeBare && !fromQuery && !looksLikeHost(host, port) {
			return nil, errNotATarget()
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

// splitScheme finds an explicit "scheme:/" prefix, or the "//" of a protocol-relative
// target. A single slash after the scheme is accepted because front proxies often merge "//"
// into "/".
func splitScheme(s string) (scheme, rest string, form schemeForm, err error) {
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		return "", rest, schemeRelative, nil
	}
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || colon+1 >= len(s) || s[colon+1] != '/' || !isSchemeName(s[:colon]) {
		return "", s, schemeBare, nil
	}
	scheme = strings.ToLower(s[:colon])
	if scheme != "http" && scheme != "https" {
		return "", "", schemeBare, &Error{Kind: KindInvalid, Cause: CauseScheme,
			Reason: "unsupported scheme " + strconv.Quote(scheme) + ": only http and https targets are proxied"}
	}
	rest = s[colon+1:]
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
	} else {
		rest = rest[1:]
	}
	return scheme, rest, schemeExplicit, nil
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
		return "", "", invalid("the target has no host")
	}
	if !utf8.ValidString(authority) {
		return "", "", invalid("the target host is not valid UTF-8")
	}
	if strings.ContainsRune(authority, '@') {
		return "", "", invalid("credentials in the target URL (user@host) are not allowed")
	}
	for i := 0; i < len(authority); i++ {
		switch c := authority[i]; {
		case c <= ' ' || c == 0x7f:
			return "", "", invalid("the target host contains spaces or control characters")
		case strings.IndexByte(`\"<>^`+"`{|}#", c) >= 0:
			return "", "", invalid("the target host contains invalid characters")
		}
	}
	host, port, hasPort, perr := splitHostPort(authority)
	if perr != nil {
		return "", "", perr
	}
	if hasPort && !validPort(port) {
		return "", "", invalid("the target port must be a number from 1 to 65535")
	}
	if strings.HasPrefix(host, "[") {
		if _, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil {
			return "", "", invalid("malformed IPv6 literal in the target host")
		}
		return host, port, nil
	}
	if host, perr = decodeHost(host); perr != nil {
		return "", "", perr
	}
	if host == "" || strings.Trim(host, ".") == "" {
		return "", "", invalid("the target has no host")
	}
	return host, port, nil
}

// decodeHost percent-decodes a host name, as the WHATWG host parser does before mapping it:
// a browser sends fetch(proxy + "https://bücher.example/") as /https://b%C3%BCcher.example/,
// because the whole target is in our path. What decoding yields is refused where the URL
// standard refuses it (delimiters, '%', controls) and where our parser always has, so a
// decoded ':' or '@' can never move the port or hide credentials; everything else faces
// CheckTarget as if it had been sent raw.
func decodeHost(host string) (string, *Error) {
	if strings.IndexByte(host, '%') < 0 {
		return host, nil
	}
	d, err := url.PathUnescape(host)
	if err != nil {
		return "", invalid("malformed percent-encoding in the target host")
	}
	if !utf8.ValidString(d) {
		return "", invalid("the target host is not valid UTF-8")
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c <= ' ' || c == 0x7f || strings.IndexByte(forbiddenDecodedHost, c) >= 0 {
			return "", invalid("the target host contains invalid characters")
		}
	}
	return d, nil
}

// forbiddenDecodedHost: the URL standard's forbidden domain code points that are ASCII
// punctuation, plus the few more our raw authority check refuses.
const forbiddenDecodedHost = "#%/:<>?@[\\]^|\"`{}"

// validPort: decimal digits only, 1 to 65535, as the URL must carry it on the wire.
func validPort(port string) bool {
	if len(port) > 5 || !allDigits(port) {
		return false
	}
	n, _ := strconv.Atoi(port)
	return n >= 1 && n <= 65535
}
