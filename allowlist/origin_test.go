package allowlist

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckOrigin(t *testing.T) {
	restricted := mustPolicy(t, Config{
		AllowOrigins: []string{"https://app.example.com", "https://*.example.org", "http://localhost:*", "HTTPS://A.COM:443", "chrome-extension://abcdefghijklmnop", "https://*.bücher.example:*"},
		DenyOrigins:  []string{"https://evil.example.org", "null"},
	})
	open := mustPolicy(t, Config{})
	denyOnly := mustPolicy(t, Config{DenyOrigins: []string{"https://evil.example.org", "null", "http://*.bad.example:*"}})
	// A predicate as cors-anywhere's "0 1 example.com" gives it: by host, any scheme.
	byFunc := mustPolicy(t, Config{
		AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "://example.com") },
		DenyOrigins:     []string{"http://example.com"},
	})
	type row struct {
		name, origin string
		want         string // "" allowed, else a fragment of the reason
	}
	for _, c := range []struct {
		policy string
		p      *Policy
		rows   []row
	}{
		{"restricted", restricted, []row{
			{"exact", "https://app.example.com", ""},
			{"case", "HTTPS://APP.Example.COM", ""},
			{"default port", "https://app.example.com:443", ""},
			{"default port leading zero", "https://app.example.com:0443", ""},
			{"other port", "https://app.example.com:8443", "not allowed"},
			{"other scheme", "http://app.example.com", "not allowed"},
			{"trailing dot", "https://app.example.com.", ""},
			{"pattern default port", "https://a.com", ""},
			{"wildcard", "https://x.example.org", ""},
			{"wildcard deep", "https://a.b.example.org", ""},
			{"wildcard apex", "https://example.org", "not allowed"},
			{"wildcard suffix trick", "https://evilexample.org", "not allowed"},
			{"wildcard wrong port", "https://x.example.org:8443", "not allowed"},
			{"deny wins", "https://evil.example.org", "denied"},
			{"deny wins canonical", "HTTPS://EVIL.example.org:443", "denied"},
			{"port wildcard none", "http://localhost", ""},
			{"port wildcard", "http://localhost:3000", ""},
			{"port wildcard scheme", "https://localhost:3000", "not allowed"},
			{"idn wildcard", "https://shop.xn--bcher-kva.example:8443", ""},
			{"idn wildcard unicode", "https://shop.bücher.example", ""},
			{"extension", "chrome-extension://abcdefghijklmnop", ""},
			{"null", "null", "null origin"},
			{"empty", "", "Origin header is required"},
			{"trailing slash", "https://app.example.com/", "malformed"},
			{"path", "https://app.example.com/x", "malformed"},
			{"userinfo", "https://u@app.example.com", "malformed"},
			{"no scheme", "app.example.com", "malformed"},
			{"garbage", "\x00", "malformed"},
			{"star", "*", "malformed"},
		}},
		{"open", open, []row{
			{"empty", "", ""},
			{"null", "null", ""},
			{"any", "https://anything.example", ""},
			{"garbage", "not an origin", ""},
		}},
		{"deny only", denyOnly, []row{
			{"empty", "", ""},
			{"null", "null", "null origin"},
			{"denied", "https://evil.example.org", "denied"},
			{"wildcard denied", "http://x.bad.example:81", "denied"},
			{"other", "https://good.example", ""},
			{"malformed", "https://good.example/", "malformed"},
		}},
		{"allow func", byFunc, []row{
			{"accepted", "https://example.com", ""},
			{"refused", "https://other.example", "not allowed"},
			{"deny wins", "http://example.com", "denied"},
			{"empty", "", "Origin header is required"},
			{"null", "null", "null origin"},
			{"malformed", "https://example.com/", "malformed"},
		}},
	} {
		for _, r := range c.rows {
			t.Run(c.policy+"/"+r.name, func(t *testing.T) {
				e := asError(t, c.p.CheckOrigin(r.origin))
				switch {
				case r.want == "" && e != nil:
					t.Errorf("CheckOrigin(%q) = %q, want allowed", r.origin, e.Reason)
				case r.want != "" && e == nil:
					t.Errorf("CheckOrigin(%q) allowed, want %q", r.origin, r.want)
				case e != nil && (e.Kind != KindOrigin || !strings.Contains(e.Reason, r.want)):
					t.Errorf("CheckOrigin(%q) = %v %q, want %v containing %q", r.origin, e.Kind, e.Reason, KindOrigin, r.want)
				}
			})
		}
	}
}

func TestOriginsRestricted(t *testing.T) {
	for _, c := range []struct {
		name  string
		allow []string
		want  bool
	}{
		{"none", nil, false},
		{"star", []string{"*"}, false},
		{"star among others", []string{"https://a.com", "*"}, false},
		{"list", []string{"https://a.com"}, true},
		{"func", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{AllowOrigins: c.allow}
			if c.name == "func" {
				cfg.AllowOriginFunc = func(string) bool { return true }
			}
			p := mustPolicy(t, cfg)
			if got := p.OriginsRestricted(); got != c.want {
				t.Errorf("OriginsRestricted() = %v, want %v", got, c.want)
			}
		})
	}
}

func TestCorsAnywhereLists(t *testing.T) {
	s, err := NewOriginSet(ParsePatterns("https://a.com,http://b.com:8080"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		origin string
		want   bool
	}{
		{"https://a.com", true},
		{"https://a.com:443", true},
		{"http://b.com:8080", true},
		{"http://b.com", false},
		{"https://b.com:8080", false},
		{"http://a.com", false},
	} {
		t.Run(c.origin, func(t *testing.T) {
			if got := s.Match(c.origin); got != c.want {
				t.Errorf("Match(%q) = %v, want %v", c.origin, got, c.want)
			}
		})
	}
	if got, want := s.Patterns(), []string{"https://a.com", "http://b.com:8080"}; !slices.Equal(got, want) {
		t.Errorf("Patterns() = %q, want %q", got, want)
	}
}

func TestNewOriginSetPatterns(t *testing.T) {
	s, err := NewOriginSet([]string{"HTTPS://App.Example.com:443/", "https://app.example.com", "http://*.Example.com:*", "https://[2606:4700::1]:8443", "https://bücher.example", "null", "*"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://app.example.com", "http://*.example.com:*", "https://[2606:4700::1]:8443", "https://xn--bcher-kva.example", "null", "*"}
	if got := s.Patterns(); !slices.Equal(got, want) {
		t.Errorf("Patterns() = %q, want %q", got, want)
	}
	for _, bad := range []string{"", "example.com", "https://", "https://a.com/x", "https://u@a.com", "https://*.10.0.0.1", "https://a.com:0", "https://a.com:99999", "1https://a.com", "https://a b.com", "https://*", "ht tp://a.com"} {
		t.Run(bad, func(t *testing.T) {
			if _, err := NewOriginSet([]string{bad}); err == nil {
				t.Errorf("NewOriginSet accepted %q", bad)
			}
		})
	}
	t.Run("allowing null", func(t *testing.T) {
		if _, err := New(Config{AllowOrigins: []string{"https://a.com", "null"}}); err == nil {
			t.Error("New accepted null in AllowOrigins")
		}
	})
}
