package access

import (
	"testing"
	"time"
)

// TestIdentifyAndInspect: Identify names genuine credentials whatever
// their scope or expiry, and nothing else; Inspect lets a credential read
// its own figures from no origin or from one in its scope, never expired
// or from a foreign or blocked origin, with no target scope at all.
func TestIdentifyAndInspect(t *testing.T) {
	now := time.Now()
	team, teamSecret := mustKey(t, "team", time.Time{}, "", nil, nil)
	scoped, scopedSecret := mustKey(t, "scoped", time.Time{}, "", []string{"https://app.example"}, []string{"api.example.com/v1/"})
	old, oldSecret := mustKey(t, "old", now.Add(-time.Minute), "", nil, nil)
	_, unknownSecret := mustKey(t, "never-stored", time.Time{}, "", nil, nil)
	d := Data{Keys: []Key{team, scoped, old}}
	d.Blocks.Origins = []string{"blocked.example"}
	g := newGuard(t, Config{Store: keysFile(t, d), TokenSecrets: []string{secretA}})
	token, err := SignToken(secretA, demoClaims(now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	expiredToken, _ := SignToken(secretA, demoClaims(now.Add(-time.Second)))
	foreignToken, _ := SignToken(secretB, demoClaims(now.Add(time.Hour)))
	tokenName := TokenID(token)

	tests := []struct {
		name, cred, origin string
		identify           string // Identify's answer
		inspect            string // Inspect's grant name, or its error code
	}{
		{"no credential", "", "https://a.example", "", "key_required"},
		{"key", teamSecret, "", "team", "team"},
		{"key from any origin", teamSecret, "https://a.example", "team", "team"},
		{"key from a blocked origin", teamSecret, "https://blocked.example", "team", "origin_blocked"},
		{"scoped key, its origin", scopedSecret, "https://app.example", "scoped", "scoped"},
		{"scoped key, no origin", scopedSecret, "", "scoped", "scoped"},
		{"scoped key, foreign origin", scopedSecret, "https://evil.example", "scoped", "key_forbidden"},
		{"expired key", oldSecret, "", "old", "key_forbidden"},
		{"unknown key", unknownSecret, "", "", "key_forbidden"},
		{"malformed", "cbk_nope", "", "", "key_forbidden"},
		{"not a credential", "hello", "", "", "key_forbidden"},
		{"token, its origin", token, "https://demo.example", tokenName, tokenName},
		{"token, foreign origin", token, "https://evil.example", tokenName, "key_forbidden"},
		{"expired token", expiredToken, "https://demo.example", TokenID(expiredToken), "key_forbidden"},
		{"token signed elsewhere", foreignToken, "https://demo.example", "", "key_forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.Identify(tc.cred); got != tc.identify {
				t.Errorf("Identify = %q, want %q", got, tc.identify)
			}
			grant, err := g.Inspect(tc.cred, tc.origin, "", now)
			got := ""
			if err != nil {
				got = string(err.(*Error).Code)
			} else {
				got = grant.Name
			}
			if got != tc.inspect {
				t.Errorf("Inspect = %q, want %q", got, tc.inspect)
			}
		})
	}
}
