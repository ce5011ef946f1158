package allowlist

import (
	"net/netip"
	"net/url"
	"testing"
)

// BenchmarkCheckTarget measures the early target check every proxied request
// makes, on URLs as parseTarget hands them over: an IP literal with a port
// (the load benchmark's upstream), a name, and an origin check.
func BenchmarkCheckTarget(b *testing.B) {
	p, err := New(Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		AllowOrigins: []string{"https://app.example", "https://*.example.org"},
		AllowTargets: []string{"127.0.0.1", "api.example.com"},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, target := range []string{"http://127.0.0.1:8081/1k", "https://api.example.com/v1/items?page=2"} {
		orig, err := url.Parse(target)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(orig.Host, func(b *testing.B) {
			b.ReportAllocs()
			var u url.URL
			for b.Loop() {
				u = *orig
				if err := p.CheckTarget(&u); err != nil {
					b.Fatal(err)
				}
			}
			if u.String() != target {
				b.Fatalf("CheckTarget changed %s to %s", target, u.String())
			}
		})
	}
	b.Run("origin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := p.CheckOrigin("https://app.example"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
