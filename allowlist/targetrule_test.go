package allowlist

import (
	"net/netip"
	"net/url"
	"testing"
)

// AllowTargets and DenyTargets: host patterns, path prefixes, deny wins, local names.

func TestCheckTargetPatterns(t *testing.T) {
	p := mustPolicy(t, Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		AllowTargets: []string{"api.example.com", "*.bücher.example", "svc.example.org/v1/", "10.0.0.5", "metrics.internal", "[2606:4700:4700::1111]"},
		DenyTargets:  []string{"api.example.com/admin", "bad.BÜCHER.example."},
	})
	runTargetCases(t, p, []targetCase{
		{name: "exact", host: "api.example.com", path: "/x", canon: "api.example.com"},
		{name: "exact canonicalised", host: "API.EXAMPLE.COM.", path: "/x", canon: "api.example.com"},
		{name: "deny path", host: "api.example.com", path: "/admin", kind: KindTarget, reason: "denied"},
		{name: "deny path below", host: "api.example.com", path: "/admin/users", kind: KindTarget, reason: "denied"},
		{name: "deny path double slash", host: "api.example.com", path: "//admin", kind: KindTarget, reason: "denied"},
		{name: "deny path dot segments", host: "api.example.com", path: "/x/../admin", kind: KindTarget, reason: "denied"},
		{name: "deny boundary", host: "api.example.com", path: "/administrator", canon: "api.example.com"},
		{name: "other host", host: "www.example.com", kind: KindTarget, reason: "not allowed"},
		{name: "parent", host: "example.com", kind: KindTarget, reason: "not allowed"},
		{name: "wildcard apex", host: "xn--bcher-kva.example", kind: KindTarget, reason: "not allowed"},
		{name: "wildcard unicode", host: "shop.bücher.example", canon: "shop.xn--bcher-kva.example"},
		{name: "wildcard a-label", host: "shop.xn--bcher-kva.example", canon: "shop.xn--bcher-kva.example"},
		{name: "wildcard deep", host: "a.b.bücher.example", canon: "a.b.xn--bcher-kva.example"},
		{name: "wildcard suffix trick", host: "evilbücher.example", kind: KindTarget, reason: "not allowed"},
		{name: "deny wins", host: "bad.bücher.example", kind: KindTarget, reason: "denied"},
		{name: "path exact", host: "svc.example.org", path: "/v1", canon: "svc.example.org"},
		{name: "path below", host: "svc.example.org", path: "/v1/items", canon: "svc.example.org"},
		{name: "path sibling", host: "svc.example.org", path: "/v10", kind: KindTarget, reason: "not allowed"},
		{name: "path root", host: "svc.example.org", path: "/", kind: KindTarget, reason: "not allowed"},
		{name: "path empty", host: "svc.example.org", kind: KindTarget, reason: "not allowed"},
		{name: "path traversal", host: "svc.example.org", path: "/v1/../admin", kind: KindTarget, reason: "not allowed"},
		{name: "path backslash", host: "svc.example.org", path: `/v1/..\admin`, kind: KindTarget, reason: "not allowed"},
		{name: "path parameter allow", host: "svc.example.org", path: "/v1/..;/admin", kind: KindTarget, reason: "not allowed"},
		{name: "path parameter deny", host: "api.example.com", path: "/admin;x=1/users", kind: KindTarget, reason: "denied"},
		{name: "path parameter deny traversal", host: "api.example.com", path: "/x/..;/admin/users", kind: KindTarget, reason: "denied"},
		{name: "ip literal", scheme: "http", host: "10.0.0.5", canon: "10.0.0.5"},
		{name: "ip literal octal", scheme: "http", host: "012.0.0.5", canon: "10.0.0.5"},
		{name: "ip literal other", scheme: "http", host: "10.0.0.6", kind: KindTarget, reason: "not allowed"},
		{name: "ip literal outside private", scheme: "http", host: "127.0.0.1", kind: KindTarget, reason: "(loopback)"},
		{name: "ipv6 literal", host: "[2606:4700:4700:0::1111]", canon: "[2606:4700:4700::1111]"},
		{name: "explicit internal", host: "metrics.internal", canon: "metrics.internal"},
		{name: "other internal", host: "other.internal", kind: KindTarget, reason: "local-only"},
	})
	for _, c := range []struct{ name, raw, want string }{
		{"encoded deny", "https://api.example.com/%61dmin", "denied"},
		{"encoded slash deny", "https://api.example.com/x%2f..%2fadmin", "denied"},
		{"encoded slash allow", "https://svc.example.org/v1%2f..%2fadmin", "not allowed"},
		{"encoded dots allow", "https://svc.example.org/v1/%2e%2e/admin", "not allowed"},
	} {
		t.Run("parsed/"+c.name, func(t *testing.T) {
			u, err := url.Parse(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			checkTargetCase(t, p, u, targetCase{kind: KindTarget, reason: c.want})
		})
	}
	t.Run("parsed/encoded allow", func(t *testing.T) {
		u, _ := url.Parse("https://svc.example.org/%761/items")
		checkTargetCase(t, p, u, targetCase{canon: "svc.example.org"})
	})
}

func TestCheckTargetLocalNameNeedsPrivate(t *testing.T) {
	noPrivate := mustPolicy(t, Config{AllowTargets: []string{"metrics.internal"}})
	star := mustPolicy(t, Config{AllowTargets: []string{"*"}, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	wild := mustPolicy(t, Config{AllowTargets: []string{"*.corp"}, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	denyAll := mustPolicy(t, Config{DenyTargets: []string{"*"}})
	runTargetCases(t, noPrivate, []targetCase{{name: "no AllowPrivate", host: "metrics.internal", kind: KindTarget, reason: "local-only"}})
	runTargetCases(t, star, []targetCase{
		{name: "star is not explicit", host: "localhost", kind: KindTarget, reason: "local-only"},
		{name: "star allows public", host: "example.com", canon: "example.com"},
	})
	runTargetCases(t, wild, []targetCase{{name: "wildcard names it", host: "git.corp", canon: "git.corp"}})
	runTargetCases(t, denyAll, []targetCase{{name: "deny star", host: "example.com", kind: KindTarget, reason: "denied"}})
}

func TestNewRejectsBadTargetPatterns(t *testing.T) {
	for _, pat := range []string{
		"", "https://api.example.com", "api.example.com:8443", "*.10.0.0.1", "ex ample.com",
		"api.example.com/v1/../x", "**.example.com", "*example.com", "api.example.com/%zz",
		"api.example.com/a%2fb", "exa%mple.com", "localhost:", "[::1",
	} {
		t.Run(pat, func(t *testing.T) {
			if _, err := New(Config{AllowTargets: []string{pat}}); err == nil {
				t.Errorf("New accepted target pattern %q", pat)
			}
			if _, err := New(Config{DenyTargets: []string{pat}}); err == nil {
				t.Errorf("New accepted deny pattern %q", pat)
			}
		})
	}
}
