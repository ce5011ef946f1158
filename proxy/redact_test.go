package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"query", "https://api.example/v1?api_key=s3cret", "https://api.example/..."},
		{"path", "https://api.example/users/s3cret", "https://api.example/..."},
		{"fragment", "http://a.example#s3cret", "http://a.example/..."},
		{"bare host", "http://a.example", "http://a.example"},
		{"root path", "http://a.example:8080/", "http://a.example:8080/"},
		{"userinfo", "http://user:s3cret@a.example/", "http://a.example/"},
		{"at sign in the path", "http://a.example/x@s3cret", "http://a.example/..."},
		{"backslash", "http://a.example\\s3cret", "http://a.example/..."},
		{"unparseable", "http://[::1/s3cret?k=s3cret", "http://[::1/..."},
		{"relative", "/path?k=s3cret", "[redacted]"},
		{"empty", "", "[redacted]"},
		{"relative with a URL in its query", "/p?next=http://a.example/s3cret", "[redacted]"},
		{"no scheme", "://a.example/s3cret", "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactURLsReachesEveryURLError(t *testing.T) {
	_, parseErr := url.Parse(strings.Repeat("http://[::1/x?k=s3cret", 1)) // not a literal: staticcheck flags one that does not parse
	hop := &url.Error{Op: "Get", URL: "http://a.example/p?k=s3cret", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
	}{
		{"a url.Error", hop},
		{"wrapped once", &refused{&url.Error{Op: "Get", URL: "http://a.example/?k=s3cret", Err: errors.New("x")}}},
		{"wrapped in a url.Error", &url.Error{Op: "Get", URL: "http://b.example/?k=s3cret", Err: parseErr}},
		{"joined", errors.Join(errors.New("first"), &url.Error{Op: "Post", URL: "http://c.example/s3cret", Err: errors.New("y")})},
		{"multiple %w", fmt.Errorf("%w: %w", ErrBadRedirect, &refused{&url.Error{Op: "Get", URL: "http://d.example/?s3cret", Err: errors.New("z")}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURLs(tt.err).Error(); strings.Contains(got, "s3cret") {
				t.Errorf("secret left in %q", got)
			}
		})
	}
	if redactURLs(nil) != nil {
		t.Error("nil became an error")
	}
}

// FuzzRedactURL: whatever the text, nothing after the host survives, and
// no userinfo.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://api.example/v1?api_key=k", "http://u:p@h/", "http://[::1", "/x?y", "a://b\\c@d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := redactURL(s)
		if got == "[redacted]" {
			return
		}
		scheme, rest, ok := strings.Cut(got, "://")
		if !ok || !isScheme(scheme) || !strings.HasPrefix(s, scheme) {
			t.Fatalf("redactURL(%q) = %q, not scheme://host", s, got)
		}
		host := strings.TrimSuffix(strings.TrimSuffix(rest, "/..."), "/")
		if strings.ContainsAny(host, "/?#\\@") {
			t.Errorf("redactURL(%q) = %q keeps more than a host", s, got)
		}
	})
}
