package allowlist

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name       string
		requestURI string
		wantURL    string // targetString of the result
		wantLine   string // the request line the upstream sees (RequestURI)
	}{
		{"absolute https", "/https://api.example.com/v1/items?x=1", "https://api.example.com/v1/items?x=1", "/v1/items?x=1"},
		{"absolute http with port", "/http://api.example.com:8080/a", "http://api.example.com:8080/a", "/a"},
		{"scheme is case-insensitive", "/HTTPS://api.example.com/", "https://api.example.com/", "/"},
		{"no path", "/https://api.example.com", "https://api.example.com/", "/"},
		{"query without path", "/https://api.example.com?q=1", "https://api.example.com/?q=1", "/?q=1"},
		{"encoded slash kept", "/https://api.example.com/a%2Fb/c", "https://api.example.com/a%2Fb/c", "/a%2Fb/c"},
		{"encoded space kept", "/https://api.example.com/a%20b", "https://api.example.com/a%20b", "/a%20b"},
		{"query bytes kept", "/https://api.example.com/s?q=a+b&x=%26%3D&y=%2F", "https://api.example.com/s?q=a+b&x=%26%3D&y=%2F", "/s?q=a+b&x=%26%3D&y=%2F"},
		{"lowercase escapes kept", "/https://api.example.com/%c3%a9", "https://api.example.com/%c3%a9", "/%c3%a9"},
		{"dot segments not cleaned", "/https://api.example.com/a/../b/./c//d", "https://api.example.com/a/../b/./c//d", "/a/../b/./c//d"},
		{"odd characters kept byte for byte", "/https://api.example.com/a|b{c}", "https://api.example.com/a|b{c}", "/a|b{c}"},
		{"leading double slash path", "/https://api.example.com//x|y", "https://api.example.com//x|y", "https://api.example.com//x|y"},
		{"empty query kept", "/https://api.example.com/a?", "https://api.example.com/a?", "/a?"},
		{"collapsed double slash repaired", "/https:/api.example.com/path", "https://api.example.com/path", "/path"},
		{"collapsed http repaired", "/http:/api.example.com/path", "http://api.example.com/path", "/path"},
		{"protocol-relative is https", "///api.example.com/x?q=1", "https://api.example.com/x?q=1", "/x?q=1"},
		{"protocol-relative port 80 is http", "///api.example.com:80/x", "http://api.example.com:80/x", "/x"},
		{"protocol-relative other port is https", "///api.example.com:8443", "https://api.example.com:8443/", "/"},
		{"protocol-relative single label reaches the policy", "///intranet/x", "https://intranet/x", "/x"},
		{"protocol-relative IPv6 literal", "///[2606:4700::1]/x", "https://[2606:4700::1]/x", "/x"},
		{"query form protocol-relative", "/?url=" + url.QueryEscape("//api.example.com/a"), "https://api.example.com/a", "/a"},
		{"bare host defaults to https", "/api.example.com/path?q=1", "https://api.example.com/path?q=1", "/path?q=1"},
		{"bare host port 80 is http", "/api.example.com:80/path", "http://api.example.com:80/path", "/path"},
		{"bare host other port is https", "/api.example.com:8443/", "https://api.example.com:8443/", "/"},
		{"bare IPv4 literal", "/93.184.216.34/x", "https://93.184.216.34/x", "/x"},
		{"bare IPv6 literal", "/[2606:4700::1]/x", "https://[2606:4700::1]/x", "/x"},
		{"bare numeric host reaches the policy", "/127.1/x", "https://127.1/x", "/x"},
		{"bare localhost reaches the policy", "/localhost/x", "https://localhost/x", "/x"},
		{"single label with port reaches the policy", "/intranet:8080/x", "https://intranet:8080/x", "/x"},
		{"bare host trailing dot", "/api.example.com./x", "https://api.example.com./x", "/x"},
		{"punycode TLD", "/example.xn--p1ai/", "https://example.xn--p1ai/", "/"},
		{"query form", "/?url=" + url.QueryEscape("https://api.example.com/a%2Fb?x=1&y=2"), "https://api.example.com/a%2Fb?x=1&y=2", "/a%2Fb?x=1&y=2"},
		{"query form drops fragment", "/?url=" + url.QueryEscape("https://api.example.com/a#frag"), "https://api.example.com/a", "/a"},
		{"query form bare host", "/?url=api.example.com/a", "https://api.example.com/a", "/a"},
		{"query form non-ASCII is encoded", "/?url=" + url.QueryEscape("https://api.example.com/é"), "https://api.example.com/%C3%A9", "/%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseTarget(tt.requestURI)
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.requestURI, err)
			}
			if got := renderTarget(u); got != tt.wantURL {
				t.Errorf("target = %q, want %q", got, tt.wantURL)
			}
			if got := u.RequestURI(); got != tt.wantLine {
				t.Errorf("upstream request line = %q, want %q", got, tt.wantLine)
			}
		})
	}
}

func TestParseTargetRefusals(t *testing.T) {
	tests := []struct {
		name       string
		requestURI string
		wantKind   Kind
	}{
		{"favicon", "/favicon.ico", KindNotATarget},
		{"robots", "/robots.txt", KindNotATarget},
		{"apple touch icon", "/apple-touch-icon.png", KindNotATarget},
		{"plain word", "/admin", KindNotATarget},
		{"root without url", "/?foo=bar", KindNotATarget},
		{"dotfile", "/.env", KindNotATarget},
		{"forward proxy form", "http://api.example.com/", KindInvalid},
		{"unsupported scheme", "/ftp://files.example.com/x", KindInvalid},
		{"file scheme", "/file:///etc/passwd", KindInvalid},
		{"javascript", "/javascript:alert(1)", KindInvalid},
		{"query form javascript", "/?url=javascript:alert(1)", KindInvalid},
		{"empty host", "/https:///path", KindInvalid},
		{"protocol-relative without host", "////api.example.com/", KindInvalid},
		{"protocol-relative nothing", "///", KindInvalid},
		{"protocol-relative userinfo", "///user@api.example.com/", KindInvalid},
		{"only scheme", "/https://", KindInvalid},
		{"bad port", "/https://api.example.com:99999/", KindInvalid},
		{"zero port", "/https://api.example.com:0/", KindInvalid},
		{"empty port", "/https://api.example.com:/", KindInvalid},
		{"letters in port", "/https://api.example.com:80a/", KindInvalid},
		{"userinfo", "/https://user:pass@api.example.com/", KindInvalid},
		{"backslash in host", "/https://api.example.com\\@evil.example/", KindInvalid},
		{"percent-encoded colon in host", "/https://evil.example%3A6379/", KindInvalid},
		{"percent-encoded at in host", "/https://a%40b.example/", KindInvalid},
		{"percent-encoded slash in host", "/https://a%2Fb.example/", KindInvalid},
		{"percent-encoded percent in host", "/https://a%2541.example/", KindInvalid},
		{"percent-encoded space in host", "/https://a%20b.example/", KindInvalid},
		{"malformed escape in host", "/https://%zz.example/", KindInvalid},
		{"percent-encoded invalid UTF-8 in host", "/https://%FF.example/", KindInvalid},
		{"percent-encoded bracket in host", "/https://%5B::1%5D/", KindInvalid},
		{"unbracketed IPv6", "/https://::1/", KindInvalid},
		{"unterminated IPv6", "/https://[::1/", KindInvalid},
		{"garbage IPv6", "/https://[zz::1]/", KindInvalid},
		{"query form with space", "/?url=" + url.QueryEscape("https://api.example.com/a b"), KindInvalid},
		{"query form with control char", "/?url=" + url.QueryEscape("https://api.example.com/a\x00"), KindInvalid},
		{"query form malformed escape", "/?url=" + url.QueryEscape("https://api.example.com/%zz"), KindInvalid},
		{"malformed query string", "/?url=%zz", KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseTarget(tt.requestURI)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseTarget(%q) = %v, %v; want a %s error", tt.requestURI, u, err, tt.wantKind)
			}
			if e.Kind != tt.wantKind || e.Reason == "" {
				t.Errorf("kind = %s (%q), want %s with a reason", e.Kind, e.Reason, tt.wantKind)
			}
		})
	}
}

// FuzzParseTarget: whatever the input, the parser never panics; what it
// accepts is an http(s) URL with a host and no credentials; and what then
// passes the policy's early checks, as in production, has a request line
// that is valid on the wire.
func FuzzParseTarget(f *testing.F) {
	for _, seed := range []string{
		"/https://api.example.com/v1?x=1", "/api.example.com/a%2Fb", "/https:/x.example/p", "/?url=https%3A%2F%2Fa.example%2F",
		"/[::1]:8080/", "/127.1", "/favicon.ico", "/https://u@h.example/", "/https://h.example//a|b", "/?url=%zz",
		"/HTTP://A.EXAMPLE:80", "/a.example:65535/?", "/xn--bcher-kva.example/",
		"/https://b%C3%BCcher.example/", "///api.example.com/x", "/https://evil.example%3A80/",
	} {
		f.Add(seed)
	}
	// The default, public-only policy, as in production.
	policy := &Policy{}
	f.Fuzz(func(t *testing.T, requestURI string) {
		u, err := ParseTarget(requestURI)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" || (e.Kind != KindInvalid && e.Kind != KindNotATarget) {
				t.Fatalf("error %v is not an invalid or not-a-target *Error with a reason", err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("scheme %q accepted", u.Scheme)
		}
		if u.Host == "" || u.User != nil {
			t.Fatalf("host %q / user %v accepted", u.Host, u.User)
		}
		if strings.ContainsAny(u.Host, "@/\\?# %") {
			t.Fatalf("host %q carries a delimiter", u.Host)
		}
		// The policy canonicalises the host (IDN to punycode, IP spellings)
		// in place, Opaque included, before anything is sent.
		if err := checkParsedTarget(policy, u); err != nil {
			return
		}
		line := u.RequestURI()
		for i := 0; i < len(line); i++ {
			if c := line[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("request line %q carries byte %#x", line, c)
			}
		}
		for i := 0; i < len(u.Host); i++ {
			if c := u.Host[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("canonical host %q carries byte %#x", u.Host, c)
			}
		}
	})
}

// checkParsedTarget runs CheckTarget on a URL from ParseTarget as the server does: CheckTarget
// refuses Opaque URLs, so the raw-path form is checked without it and given the canonical host.
func checkParsedTarget(p *Policy, u *url.URL) error {
	plain := *u
	plain.Opaque = ""
	if err := p.CheckTarget(&plain); err != nil {
		return err
	}
	if rest, ok := strings.CutPrefix(u.Opaque, "//"+u.Host); ok {
		u.Opaque = "//" + plain.Host + rest
	}
	u.Host = plain.Host
	return nil
}

// Hosts as a browser sends them inside our path: percent-encoded UTF-8, decoded and then
// mapped by CheckTarget to the host the browser itself would have reached.
func TestParseTargetInternationalHosts(t *testing.T) {
	tests := []struct {
		name, requestURI string
		wantHost         string // canonical host after CheckTarget
		wantKind         Kind   // when CheckTarget refuses the decoded host
	}{
		{"percent-encoded UTF-8", "/https://b%C3%BCcher.example/", "xn--bcher-kva.example", 0},
		{"lower-case escapes", "/https://b%c3%bccher.example/", "xn--bcher-kva.example", 0},
		{"decomposed, normalised", "/https://bu%CC%88cher.example/", "xn--bcher-kva.example", 0},
		{"bare host", "/b%C3%BCcher.example/x", "xn--bcher-kva.example", 0},
		{"protocol-relative", "///b%C3%BCcher.example/x", "xn--bcher-kva.example", 0},
		{"raw UTF-8 in the query form", "/?url=" + url.QueryEscape("https://bücher.example/"), "xn--bcher-kva.example", 0},
		{"escapes in the query form", "/?url=" + url.QueryEscape("https://b%C3%BCcher.example/"), "xn--bcher-kva.example", 0},
		{"ligature mapped", "/https://%EF%AC%81le.example/", "file.example", 0},
		{"letterlike symbol mapped", "/https://%E2%84%8Cello.example/", "hello.example", 0},
		{"micro sign mapped", "/https://%C2%B5.example/", "xn--xxa.example", 0},
		{"with port", "/https://m%C3%BCnchen.de:8443/", "xn--mnchen-3ya.de:8443", 0},
		{"encoded ASCII judged as decoded", "/https://%31%32%37.0.0.1/", "", KindTarget},
		{"encoded fullwidth loopback", "/https://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/", "", KindTarget},
		{"encoded localhost", "/https://%6c%6f%63%61%6c%68%6f%73%74/", "", KindTarget},
		{"encoded joiner", "/https://a%E2%80%8Db.example/", "", KindInvalid},
	}
	policy := &Policy{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseTarget(tt.requestURI)
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.requestURI, err)
			}
			err = checkParsedTarget(policy, u)
			if tt.wantKind != 0 {
				if e := asError(t, err); e == nil || e.Kind != tt.wantKind {
					t.Fatalf("CheckTarget(%q) = %v, want %v", u.Host, err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckTarget(%q): %v", u.Host, err)
			}
			if u.Host != tt.wantHost {
				t.Errorf("host = %q, want %q", u.Host, tt.wantHost)
			}
		})
	}
}

// renderTarget is how the proxy renders a parsed target for X-Request-URL (proxy.TargetString):
// u.String, except for the Opaque form setRawPath uses to keep a raw path byte for byte.
func renderTarget(u *url.URL) string {
	if u.Opaque == "" || strings.HasPrefix(u.Opaque, "//") {
		return u.String()
	}
	s := u.Scheme + "://" + u.Host + u.Opaque
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}
