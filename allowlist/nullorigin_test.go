package allowlist

import "testing"

// TestCheckOriginFromNull: a denied page that sandboxes itself (Origin: null)
// is judged by its Referer's origin; the Origin, when it is not null, is what
// is judged; a "null" rule refuses every null origin; an allowlist never
// admits null, whatever the Referer says.
func TestCheckOriginFromNull(t *testing.T) {
	denyOnly := mustPolicy(t, Config{DenyOrigins: []string{"https://evil.example", "http://*.bad.example:*"}})
	denyNull := mustPolicy(t, Config{DenyOrigins: []string{"null"}})
	allow := mustPolicy(t, Config{AllowOrigins: []string{"https://app.example"}})
	for _, tt := range []struct {
		name            string
		p               *Policy
		origin, referer string
		want            Cause // CauseUnknown: allowed
	}{
		{"denied page's sandboxed frame", denyOnly, "null", "https://evil.example/page?x=1", CauseOriginDenied},
		{"denied page, referrer trimmed to its origin", denyOnly, "null", "https://evil.example/", CauseOriginDenied},
		{"denied page, referer in other case and default port", denyOnly, "null", "HTTPS://EVIL.example:443/a", CauseOriginDenied},
		{"denied wildcard, any port", denyOnly, "null", "http://x.bad.example:8080/", CauseOriginDenied},
		{"other page's sandboxed frame", denyOnly, "null", "https://good.example/page", CauseUnknown},
		{"no referer: what the platform leaves open", denyOnly, "null", "", CauseUnknown},
		{"referer without an origin", denyOnly, "null", "about:client", CauseUnknown},
		{"file referer", denyOnly, "null", "file:///home/evil.example/x.html", CauseUnknown},
		{"garbage referer", denyOnly, "null", "%%%", CauseUnknown},
		{"a real origin is judged, not its referer", denyOnly, "https://good.example", "https://evil.example/", CauseUnknown},
		{"a denied origin with an innocent referer", denyOnly, "https://evil.example", "https://good.example/", CauseOriginDenied},
		{"null denied itself, no referer", denyNull, "null", "", CauseOriginNull},
		{"null denied itself, any referer", denyNull, "null", "https://good.example/", CauseOriginNull},
		{"allowlist never admits null by its referer", allow, "null", "https://app.example/", CauseOriginNull},
		{"allowlist, allowed origin", allow, "https://app.example", "", CauseUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := asError(t, tt.p.CheckOriginFrom(tt.origin, tt.referer))
			switch {
			case tt.want == CauseUnknown && e != nil:
				t.Fatalf("CheckOriginFrom(%q, %q) = %q, want allowed", tt.origin, tt.referer, e.Reason)
			case tt.want != CauseUnknown && (e == nil || e.Cause != tt.want || e.Kind != KindOrigin):
				t.Fatalf("CheckOriginFrom(%q, %q) = %+v, want cause %v", tt.origin, tt.referer, e, tt.want)
			}
		})
	}
}

// FuzzRefererOrigin: whatever a Referer holds, its origin (when it has one)
// is a canonical origin that reads back as itself, and a deny rule for it
// catches a null-origin request carrying that Referer.
func FuzzRefererOrigin(f *testing.F) {
	f.Fuzz(func(t *testing.T, referer string) {
		o, ok := refererOrigin(referer)
		if !ok {
			return
		}
		again, ok := parseOrigin(o.String())
		if !ok || again != o {
			t.Fatalf("refererOrigin(%q) = %q, which reads back as %q, %v", referer, o, again, ok)
		}
		set, err := NewOriginSet([]string{o.String()})
		if err != nil {
			t.Fatalf("refererOrigin(%q) = %q, not a valid pattern: %v", referer, o, err)
		}
		if !set.MatchDeny("null", referer) {
			t.Fatalf("a rule for %q does not catch Origin: null with Referer %q", o, referer)
		}
	})
}
