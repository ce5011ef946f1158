package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The parser lives in allowlist (allowlist/parsetarget_test.go); this checks
// the codes its refusals become.
func TestParseTargetCodes(t *testing.T) {
	tests := []struct {
		name       string
		requestURI string
		wantCode   errorCode // "" for a target
	}{
		{"absolute target", "/https://api.example.com/v1", ""},
		{"protocol-relative target", "///api.example.com/v1", ""},
		{"favicon", "/favicon.ico", codeNotFound},
		{"root without url", "/?foo=bar", codeNotFound},
		{"forward proxy form", "http://api.example.com/", codeInvalidTarget},
		{"unsupported scheme", "/ftp://files.example.com/x", codeInvalidTarget},
		{"bad port", "/https://api.example.com:99999/", codeInvalidTarget},
		{"query form malformed escape", "/?url=" + url.QueryEscape("https://api.example.com/%zz"), codeInvalidTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := parseTarget(tt.requestURI)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("parseTarget(%q): %v", tt.requestURI, err)
				}
				return
			}
			var te *targetError
			if !errors.As(err, &te) {
				t.Fatalf("parseTarget(%q) = %v, %v; want a %s error", tt.requestURI, u, err, tt.wantCode)
			}
			if te.code != tt.wantCode || te.message == "" {
				t.Errorf("code = %s (%q), want %s with a message", te.code, te.message, tt.wantCode)
			}
		})
	}
}

// What fetch(proxy + "//host/x") sends reaches the target policy through the
// real server: a private target is refused as a target (403), not as a
// malformed request (400). The request line is written by hand because Go's
// client would turn a path starting with "//" into an absolute URI.
func TestProtocolRelativeTargetReachesPolicy(t *testing.T) {
	p := newProxy(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET ///10.0.0.1/x HTTP/1.1\r\nHost: proxy\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusForbidden || res.Header.Get(HeaderError) != string(codeTargetForbidden) {
		t.Errorf("GET ///10.0.0.1/x = %d %q, want 403 %s", res.StatusCode, res.Header.Get(HeaderError), codeTargetForbidden)
	}
}
