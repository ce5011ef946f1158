package allowlist

import (
	"strings"
	"testing"
)

func TestOriginKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://app.example.com", "app.example.com"},
		{"https://App.Example.COM", "app.example.com"},
		{"HTTPS://app.example.com", "app.example.com"},
		{"https://app.example.com:443", "app.example.com"},
		{"https://app.example.com:0443", "app.example.com"},
		{"http://app.example.com:80", "app.example.com"},
		{"http://app.example.com:443", "app.example.com:443"},
		{"https://app.example.com:80", "app.example.com:80"},
		{"http://localhost:8080", "localhost:8080"},
		{"wss://chat.example.com:443", "chat.example.com"},
		{"chrome-extension://abcdefghijklmnop", "abcdefghijklmnop"},
		{"https://app.example.com.", "app.example.com"},
		{"https://app.example.com/", "app.example.com"},
		{"https://[2001:DB8::1]:8443", "[2001:db8::1]:8443"},
		{"https://[2001:db8:0::1]", "[2001:db8::1]"},
		{"http://192.0.2.1:8080", "192.0.2.1:8080"},
		{"app.example.com", "app.example.com"},
		{"app.example.com:443", "app.example.com:443"}, // no scheme: no default port
		{"under_score.example", "under_score.example"},
		{"null", "null"},
		{"NULL", "null"},
		{" https://a.example ", "a.example"},
		{"", ""},
		{"https://", ""},
		{"https://a.example/path", ""},
		{"https://a.example?x", ""},
		{"https://user@a.example", ""},
		{"https://a.example:", ""},
		{"https://a.example:0", ""},
		{"https://a.example:65536", ""},
		{"https://a.example:http", ""},
		{"https://a b.example", ""},
		{"https://ä.example", "xn--4ca.example"}, // canonical, as every other rule sees it
		{"https://a..example", ""},
		{"https://.example", ""},
		{"https://*.example", ""},
		{"https://[::1", ""},
		{"https://[fe80::1%25eth0]", ""},
		{"https://[192.0.2.1]", ""},
		{"https://[::1]x", ""},
		{"https://::1", ""},
		{"1http://a.example", ""},
		{"://a.example", ""},
		{"https://" + strings.Repeat("a", 64) + ".example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := OriginKey(tt.in); got != tt.want {
				t.Fatalf("OriginKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzOriginKey(f *testing.F) {
	for _, s := range []string{"https://App.Example.com:443", "http://localhost:8080", "https://[2001:db8::1]:8443",
		"null", "app.example.com.", "https://a.example/", "https://[::ffff:192.0.2.1]", "x://y:00080"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := OriginKey(s)
		if k == "" {
			return
		}
		if again := OriginKey(k); again != k {
			t.Fatalf("OriginKey(%q) = %q, but OriginKey(%q) = %q", s, k, k, again)
		}
		if len(k) > 253+len("[]:65535") || strings.Contains(k, "://") || strings.ToLower(k) != k {
			t.Fatalf("OriginKey(%q) = %q: too long, with a scheme, or not lower-case", s, k)
		}
		for _, c := range []byte(k) {
			if c <= ' ' || c >= 0x7f || strings.IndexByte("/?#@{}", c) >= 0 {
				t.Fatalf("OriginKey(%q) = %q holds %q", s, k, c)
			}
		}
	})
}

func TestOriginKeySet(t *testing.T) {
	l, err := NewOriginKeySet([]string{
		"app.example.com", "https://secure.example.com", "http://dev.example:8080",
		"*.example.org", `/(.*\.)?friendly\.example/`, "localhost:3000",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"http://app.example.com", true},
		{"https://APP.example.com:443", true},
		{"https://app.example.com:8443", false},
		{"https://other.example.com", false},
		{"https://secure.example.com", true},
		{"http://dev.example:8080", true},
		{"http://dev.example", false},
		{"https://a.example.org", true},
		{"https://a.b.example.org:8443", true},
		{"https://example.org", false},
		{"https://badexample.org", false},
		{"https://friendly.example", true},
		{"https://www.Friendly.example", true},
		{"https://friendly.example:8080", false}, // regexes see the port
		{"https://unfriendly.example", false},
		{"http://localhost:3000", true},
		{"http://localhost", false},
		{"null", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			if got := l.Match(tt.origin); got != tt.want {
				t.Fatalf("exempt %q (key %q) = %v, want %v", tt.origin, OriginKey(tt.origin), got, tt.want)
			}
		})
	}

	for _, bad := range []string{"*", "*.", "a.*.com", "*.[::1]", "app.example.com/", "/x", "https://a.example/path", "", "/(/"} {
		if _, err := NewOriginKeySet([]string{bad}); err == nil {
			t.Errorf("NewOriginKeySet(%q) succeeded, want error", bad)
		}
	}
}

// TestOriginKeySetAsOriginPolicy: the predicate a max of 0 gives the origin policy reads
// Origin headers the way cors-anywhere reads them: host without scheme, the
// whole host matched by a /regex/.
func TestOriginKeySetAsOriginPolicy(t *testing.T) {
	set, err := NewOriginKeySet([]string{`/(.*\.)?example\.com/`, "localhost:8080"})
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"https://example.com":        true,
		"http://app.example.com":     true,
		"https://App.Example.COM":    true,
		"https://example.com:443":    true,
		"https://example.com.evil":   false,
		"https://notexample.com":     false,
		"http://localhost:8080":      true,
		"http://localhost":           false,
		"null":                       false,
		"":                           false,
		"https://exa mple.com":       false,
		"https://example.com/path":   false,
		"https://evil.test":          false,
		"https://example.com.:443":   true,
		"https://sub.example.com:81": false,
	} {
		if got := set.Match(origin); got != want {
			t.Errorf("match(%q) = %v, want %v", origin, got, want)
		}
	}
	if _, err := NewOriginKeySet([]string{"/(?!x)/"}); err == nil {
		t.Error("an entry that does not compile must be an error")
	}
}

// TestOriginKeySetErrors: what cors-anywhere's CORSANYWHERE_RATELIMIT and
// CORSBRIDGE_RATE_LIMIT_EXEMPT refuse at start-up, and why.
func TestOriginKeySetErrors(t *testing.T) {
	tests := []struct{ name, entry, wantErr string }{
		{"regex unterminated", "/abc", "start and end with '/'"},
		{"regex unopened", "abc/", "start and end with '/'"},
		{"regex empty", "//", "start and end"},
		{"regex lookahead", "/(?!x)y/", "RE2"},
		{"regex unbalanced", "/a)|(b/", "RE2"},
		{"bad host", "exa$mple.com", "not an origin"},
		{"star in the middle", "a.*.com", "leading"},
		{"wildcard on an address", "*.[::1]", "domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOriginKeySet([]string{tt.entry})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewOriginKeySet(%q) = %v, want an error containing %q", tt.entry, err, tt.wantErr)
			}
		})
	}
}
