package access

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func demoClaims(expires time.Time) Claims {
	return Claims{
		Origins: []string{"https://demo.example"},
		Targets: []string{"api.example.com/v1/*"},
		Expires: expires.Unix(),
		Rate:    "100/1h",
	}
}

func TestTokens(t *testing.T) {
	now := time.Now()
	valid, err := SignToken(secretA, demoClaims(now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := SignToken(secretA, demoClaims(now.Add(-time.Second)))
	byB, _ := SignToken(secretB, demoClaims(now.Add(time.Hour)))
	byOther, _ := SignToken("a-secret-nobody-configured-0123456789", demoClaims(now.Add(time.Hour)))

	// Tampering: re-encode the claims with a wider scope, keep the signature.
	parts := strings.Split(valid, ".")
	wider := base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"o":["https://evil.example"],"t":["api.example.com/v1/*"],"e":` +
		"9999999999" + `,"r":"100/1h"}`))
	tamperedClaims := parts[0] + "." + wider + "." + parts[2]
	sig := []byte(parts[2])
	sig[5] ^= 1
	tamperedSig := parts[0] + "." + parts[1] + "." + string(sig)
	otherKid := TokenPrefix + SecretID(secretB) + strings.TrimPrefix(parts[0], TokenPrefix+SecretID(secretA)) + "." + parts[1] + "." + parts[2]

	rotated := []string{secretB, secretA} // B signs now, A still verifies
	dropped := []string{secretB}

	api := "https://api.example.com/v1/items?x=1"
	tests := []struct {
		name    string
		secrets []string
		token   string
		origin  string
		target  string
		want    string
	}{
		{"valid", []string{secretA}, valid, "https://demo.example", api, "ok"},
		{"valid, origin with default port", []string{secretA}, valid, "https://DEMO.example:443", api, "ok"},
		{"expired", []string{secretA}, expired, "https://demo.example", api, "key_forbidden"},
		{"wrong origin", []string{secretA}, valid, "https://evil.example", api, "key_forbidden"},
		{"no origin", []string{secretA}, valid, "", api, "key_forbidden"},
		{"other scheme", []string{secretA}, valid, "http://demo.example", api, "key_forbidden"},
		{"wrong target host", []string{secretA}, valid, "https://demo.example", "https://other.example/v1/x", "key_forbidden"},
		{"wrong target path", []string{secretA}, valid, "https://demo.example", "https://api.example.com/v2/x", "key_forbidden"},
		{"ambiguous target path", []string{secretA}, valid, "https://demo.example", "https://api.example.com/v1/../admin", "key_forbidden"},
		{"rotated: old secret listed second", rotated, valid, "https://demo.example", api, "ok"},
		{"rotated: new secret", rotated, byB, "https://demo.example", api, "ok"},
		{"dropped secret", dropped, valid, "https://demo.example", api, "key_forbidden"},
		{"unknown secret", []string{secretA}, byOther, "https://demo.example", api, "key_forbidden"},
		{"tampered claims", []string{secretA}, tamperedClaims, "https://evil.example", api, "key_forbidden"},
		{"tampered signature", []string{secretA}, tamperedSig, "https://demo.example", api, "key_forbidden"},
		{"kid swapped", rotated, otherKid, "https://demo.example", api, "key_forbidden"},
		{"truncated", []string{secretA}, valid[:len(valid)-3], "https://demo.example", api, "key_forbidden"},
		{"no secrets configured", nil, valid, "https://demo.example", api, "key_forbidden"},
		{"not a token", []string{secretA}, "cbt_nonsense", "https://demo.example", api, "key_forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuard(t, Config{TokenSecrets: tc.secrets})
			grant, err := g.Authorize(tc.token, tc.origin, "", mustURL(t, tc.target), now)
			if got := codeOf(err); got != tc.want {
				t.Fatalf("Authorize = %s, want %s", got, tc.want)
			}
			if err == nil && (grant.Limit.String() != "100/1h" || !strings.HasPrefix(grant.Name, "token:") || grant.Name != TokenID(tc.token)) {
				t.Errorf("grant %+v", grant)
			}
			// A second use is served from the cache with the same answer.
			if _, err2 := g.Authorize(tc.token, tc.origin, "", mustURL(t, tc.target), now); codeOf(err2) != tc.want {
				t.Errorf("second Authorize = %s", codeOf(err2))
			}
		})
	}
}

func TestTokenExpiresWhileCached(t *testing.T) {
	now := time.Now()
	tok, _ := SignToken(secretA, demoClaims(now.Add(time.Minute)))
	g := newGuard(t, Config{TokenSecrets: []string{secretA}})
	target := mustURL(t, "https://api.example.com/v1/")
	if _, err := g.Authorize(tok, "https://demo.example", "", target, now); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Authorize(tok, "https://demo.example", "", target, now.Add(2*time.Minute)); err != errTokenExpired {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestSignTokenRefuses(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	for name, c := range map[string]Claims{
		"no origin":         {Targets: []string{"api.example.com"}, Expires: exp, Rate: "1/1m"},
		"any origin":        {Origins: []string{"*"}, Targets: []string{"api.example.com"}, Expires: exp, Rate: "1/1m"},
		"null origin":       {Origins: []string{"null"}, Targets: []string{"api.example.com"}, Expires: exp, Rate: "1/1m"},
		"bad origin":        {Origins: []string{"demo.example/x"}, Targets: []string{"api.example.com"}, Expires: exp, Rate: "1/1m"},
		"no target":         {Origins: []string{"https://demo.example"}, Expires: exp, Rate: "1/1m"},
		"any target":        {Origins: []string{"https://demo.example"}, Targets: []string{"*/*"}, Expires: exp, Rate: "1/1m"},
		"bad target":        {Origins: []string{"https://demo.example"}, Targets: []string{"https://api.example.com"}, Expires: exp, Rate: "1/1m"},
		"no expiry":         {Origins: []string{"https://demo.example"}, Targets: []string{"api.example.com"}, Rate: "1/1m"},
		"rate off":          {Origins: []string{"https://demo.example"}, Targets: []string{"api.example.com"}, Expires: exp, Rate: "off"},
		"bad rate":          {Origins: []string{"https://demo.example"}, Targets: []string{"api.example.com"}, Expires: exp, Rate: "lots"},
		"unknown version":   {Version: 2, Origins: []string{"https://demo.example"}, Targets: []string{"api.example.com"}, Expires: exp, Rate: "1/1m"},
		"too many patterns": {Origins: []string{"https://demo.example"}, Targets: strings.Split(strings.Repeat("api.example.com,", 200), ",")[:200], Expires: exp, Rate: "1/1m"},
	} {
		if tok, err := SignToken(secretA, c); err == nil {
			t.Errorf("%s: signed %s", name, tok)
		}
	}
	if _, err := SignToken("short", demoClaims(time.Now())); err == nil {
		t.Error("signed with a short secret")
	}
	for _, secrets := range [][]string{{"short"}, {secretA, secretA}} {
		if err := (Config{TokenSecrets: secrets}).Validate(); err == nil {
			t.Errorf("secrets %q accepted", secrets)
		}
	}
}

func TestParseToken(t *testing.T) {
	tok, err := SignToken(secretA, demoClaims(time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseToken(tok)
	if err != nil || p.KID != SecretID(secretA) || len(p.Signature) != 32 || !strings.HasPrefix(string(p.Payload), `{"v":1,`) {
		t.Fatalf("ParseToken = %+v, %v", p, err)
	}
	for _, bad := range []string{
		"", "cbt_", "cbk_" + tok[4:], tok + ".", tok + "=", strings.Replace(tok, ".", "..", 1),
		"cbt_AAAAAAAA..AAAA", "cbt_AAAAAAA.e30." + strings.Repeat("A", 43), "cbt_AAAAAAAA.e30." + strings.Repeat("A", 42),
		"cbt_AAAAAAAA.e30=." + strings.Repeat("A", 43), "cbt_AAAA+AAA.e30." + strings.Repeat("A", 43),
		"cbt_AAAAAAAA." + strings.Repeat("A", 3000) + "." + strings.Repeat("A", 43),
	} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

// FuzzParseToken: parsing never panics; whatever parses has the shape the
// format promises; verifying arbitrary input never panics and accepts only
// what the secret signed, with a grant that is scoped and limited.
func FuzzParseToken(f *testing.F) {
	tok, _ := SignToken(secretA, demoClaims(time.Unix(4102444800, 0)))
	f.Add(tok)
	f.Add("cbt_AAAAAAAA.e30." + strings.Repeat("A", 43))
	f.Add("cbk_" + strings.Repeat("A", 43))
	v, err := newVerifier([]string{secretA})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseToken(s)
		if err == nil {
			if len(s) > maxTokenLen || len(p.KID) != kidLen || len(p.Signature) != 32 || len(p.Payload) == 0 || !strings.HasPrefix(s, p.Signed+".") {
				t.Fatalf("ParseToken(%q) = %+v", s, p)
			}
		}
		g, verr := v.verify(s)
		if verr == nil {
			if err != nil || p.KID != SecretID(secretA) || g.origins == nil || g.targets == nil || g.targets.Any() || g.Limit.Off() || g.expires.IsZero() {
				t.Fatalf("verify(%q) accepted: %+v", s, g)
			}
		} else if verr.Code != CodeKeyForbidden {
			t.Fatalf("verify(%q) = %v", s, verr)
		}
	})
}
