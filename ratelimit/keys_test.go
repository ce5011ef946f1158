package ratelimit

import (
	"net/http/httptest"
	"net/netip"
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
		{"https://ä.example", ""},
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

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		trusted string
		headers map[string][]string
		want    string
	}{
		{name: "peer v4", remote: "192.0.2.1:1234", want: "192.0.2.1"},
		{name: "peer v6", remote: "[2001:db8::1]:1234", want: "2001:db8::1"},
		{name: "peer v4-mapped unmapped", remote: "[::ffff:192.0.2.1]:1234", want: "192.0.2.1"},
		{name: "peer zone dropped", remote: "[fe80::1%eth0]:1234", want: "fe80::1"},
		{name: "peer without port", remote: "192.0.2.1", want: "192.0.2.1"},
		{name: "peer unix socket", remote: "@", want: "invalid IP"},
		{name: "xff ignored without trusted header", remote: "192.0.2.1:1",
			headers: map[string][]string{"X-Forwarded-For": {"198.51.100.7"}, "X-Real-Ip": {"198.51.100.8"}}, want: "192.0.2.1"},
		{name: "trusted header used", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7"}}, want: "198.51.100.7"},
		{name: "trusted header case-insensitive", remote: "10.0.0.1:1", trusted: "fly-client-ip",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7"}}, want: "198.51.100.7"},
		{name: "trusted header v6 mapped", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {" ::ffff:198.51.100.7 "}}, want: "198.51.100.7"},
		{name: "trusted header wins over xff", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7"}, "X-Forwarded-For": {"203.0.113.9"}}, want: "198.51.100.7"},
		{name: "trusted header missing: peer, not xff", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, want: "10.0.0.1"},
		{name: "trusted header invalid: peer", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7, 203.0.113.9"}}, want: "10.0.0.1"},
		{name: "trusted header repeated: peer", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7", "203.0.113.9"}}, want: "10.0.0.1"},
		{name: "trusted header with port: peer", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7:80"}}, want: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/https://api.example/", nil)
			r.RemoteAddr = tt.remote
			for k, vs := range tt.headers {
				r.Header[k] = vs
			}
			if got := ClientIP(r, tt.trusted).String(); got != tt.want {
				t.Fatalf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := clientKey(netip.MustParseAddr(tt.in)); got != tt.want {
				t.Fatalf("clientKey(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	if got := clientKey(netip.Addr{}); got != "unknown" {
		t.Fatalf("clientKey(zero) = %s, want unknown", got)
	}
}

func TestExempt(t *testing.T) {
	l, err := compileExempt([]string{
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
			if got := l.match(OriginKey(tt.origin)); got != tt.want {
				t.Fatalf("exempt %q (key %q) = %v, want %v", tt.origin, OriginKey(tt.origin), got, tt.want)
			}
		})
	}

	for _, bad := range []string{"*", "*.", "a.*.com", "*.[::1]", "app.example.com/", "/x", "https://a.example/path", "", "/(/"} {
		if _, err := compileExempt([]string{bad}); err == nil {
			t.Errorf("compileExempt(%q) succeeded, want error", bad)
		}
	}
}
