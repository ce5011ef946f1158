package access

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newGuard(t *testing.T, cfg Config) *Guard {
	t.Helper()
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// keysFile writes d to a new keys file and returns its store.
func keysFile(t *testing.T, d Data) *FileStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustKey(t *testing.T, name string, expires time.Time, rate string, origins, targets []string) (Key, string) {
	t.Helper()
	k, secret, err := NewKey(name, expires, rate, origins, targets, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func TestAuthorizeKeys(t *testing.T) {
	now := time.Now()
	team, teamSecret := mustKey(t, "team", time.Time{}, "1000/1h", nil, nil)
	scoped, scopedSecret := mustKey(t, "scoped", now.Add(time.Hour), "", []string{"https://app.example", "https://*.app.example"}, []string{"api.example.com/v1/"})
	old, oldSecret := mustKey(t, "old", now.Add(-time.Minute), "", nil, nil)
	_, unknownSecret := mustKey(t, "never-stored", time.Time{}, "", nil, nil)
	store := keysFile(t, Data{Keys: []Key{team, scoped, old}})

	api := "https://api.example.com/v1/items"
	tests := []struct {
		name          string
		require       bool
		cred          string
		origin        string
		target        string
		want          string
		wantName      string
		wantRateLimit string
	}{
		{"no key", false, "", "https://a.example", api, "ok", "", ""},
		{"no key, required", true, "", "https://a.example", api, "key_required", "", ""},
		{"valid key", false, teamSecret, "", api, "ok", "team", "1000/1h"},
		{"valid key, required", true, teamSecret, "https://a.example", api, "ok", "team", "1000/1h"},
		{"scoped key in scope", true, scopedSecret, "https://app.example", api, "ok", "scoped", DefaultKeyRate},
		{"scoped key, subdomain origin", true, scopedSecret, "https://x.app.example", api, "ok", "scoped", DefaultKeyRate},
		{"scoped key, wrong origin", true, scopedSecret, "https://evil.example", api, "key_forbidden", "", ""},
		{"scoped key, no origin", true, scopedSecret, "", api, "key_forbidden", "", ""},
		{"scoped key, wrong target", true, scopedSecret, "https://app.example", "https://api.example.com/v2/", "key_forbidden", "", ""},
		{"scoped key, wrong host", true, scopedSecret, "https://app.example", "https://other.example/v1/", "key_forbidden", "", ""},
		{"expired key", true, oldSecret, "", api, "key_forbidden", "", ""},
		{"expired key, not required", false, oldSecret, "", api, "key_forbidden", "", ""},
		{"unknown key", true, unknownSecret, "", api, "key_forbidden", "", ""},
		{"unknown key, not required", false, unknownSecret, "", api, "key_forbidden", "", ""},
		{"malformed key", false, "cbk_short", "", api, "key_forbidden", "", ""},
		{"key with a bad character", false, teamSecret[:46] + "!", "", api, "key_forbidden", "", ""},
		{"no prefix", false, "hunter2", "", api, "key_forbidden", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuard(t, Config{RequireKey: tc.require, Store: store})
			grant, err := g.Authorize(tc.cred, tc.origin, "", mustURL(t, tc.target), now)
			if got := codeOf(err); got != tc.want {
				t.Fatalf("Authorize = %s (%v), want %s", got, err, tc.want)
			}
			switch {
			case tc.wantName == "" && grant != nil:
				t.Errorf("grant %+v, want none", grant)
			case tc.wantName != "" && (grant == nil || grant.Name != tc.wantName || grant.Limit.String() != tc.wantRateLimit):
				t.Errorf("grant %+v, want %s at %s", grant, tc.wantName, tc.wantRateLimit)
			}
			if err != nil && strings.Contains(err.Error(), tc.cred) && tc.cred != "" {
				t.Errorf("the refusal echoes the key: %v", err)
			}
		})
	}
	// The key expires at its expiry, not before.
	g := newGuard(t, Config{Store: store})
	if _, err := g.Authorize(scopedSecret, "https://app.example", "", mustURL(t, api), scoped.Expires.Add(-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	if _, err := g.Authorize(scopedSecret, "https://app.example", "", mustURL(t, api), scoped.Expires); err != errKeyExpired {
		t.Errorf("at expiry: %v", err)
	}
}

func TestBlocks(t *testing.T) {
	team, teamSecret := mustKey(t, "team", time.Time{}, "", nil, nil)
	store := keysFile(t, Data{Keys: []Key{team}, Blocks: Blocks{
		Origins: []string{"https://evil.example", "*.spam.example", "bad.example"},
		Targets: []string{"victim.example", "api.example.com/admin/"},
	}})
	g := newGuard(t, Config{Store: store})
	tests := []struct {
		name, cred, origin, target, want string
	}{
		{"free", "", "https://app.example", "https://api.example.com/v1", "ok"},
		{"blocked origin", "", "https://evil.example", "https://api.example.com/", "origin_blocked"},
		{"blocked origin, default port", "", "https://EVIL.example:443", "https://api.example.com/", "origin_blocked"},
		{"blocked origin, other scheme", "", "http://evil.example", "https://api.example.com/", "ok"},
		{"bare host block, http", "", "http://bad.example:8080", "https://api.example.com/", "origin_blocked"},
		{"bare host block, https", "", "https://bad.example", "https://api.example.com/", "origin_blocked"},
		{"wildcard block", "", "https://a.b.spam.example", "https://api.example.com/", "origin_blocked"},
		{"wildcard block spares the apex", "", "https://spam.example", "https://api.example.com/", "ok"},
		{"no origin", "", "", "https://api.example.com/", "ok"},
		{"blocked target", "", "https://app.example", "https://victim.example/x", "target_blocked"},
		{"blocked target with port", "", "https://app.example", "https://victim.example:8443/x", "target_blocked"},
		{"blocked target path", "", "https://app.example", "https://api.example.com/admin/users", "target_blocked"},
		{"blocked target path, ambiguous", "", "https://app.example", "https://api.example.com/v1/../admin", "target_blocked"},
		{"blocked target path, sibling", "", "https://app.example", "https://api.example.com/administrator", "ok"},
		{"a valid key does not lift a block", teamSecret, "https://evil.example", "https://api.example.com/", "origin_blocked"},
		{"a valid key does not lift a target block", teamSecret, "", "https://victim.example/", "target_blocked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.Authorize(tc.cred, tc.origin, "", mustURL(t, tc.target), time.Now())
			if got := codeOf(err); got != tc.want {
				t.Fatalf("Authorize = %s, want %s", got, tc.want)
			}
		})
	}
	if err := g.CheckHop(nil, mustURL(t, "https://victim.example/")); codeOf(err) != "target_blocked" {
		t.Errorf("CheckHop to a blocked target: %v", err)
	}
	for _, bad := range []struct {
		kind    Kind
		pattern string
	}{{KindOrigin, "https://evil.example/path"}, {KindOrigin, "ftp//x"}, {KindTarget, "https://victim.example"}, {KindTarget, "victim.example:443"}} {
		if err := CheckBlock(bad.kind, bad.pattern); err == nil {
			t.Errorf("CheckBlock(%s, %q) accepted", bad.kind, bad.pattern)
		}
	}
}

func TestCheckHop(t *testing.T) {
	scoped, secret := mustKey(t, "scoped", time.Time{}, "", nil, []string{"api.example.com"})
	g := newGuard(t, Config{Store: keysFile(t, Data{Keys: []Key{scoped}})})
	grant, err := g.Authorize(secret, "", "", mustURL(t, "https://api.example.com/x"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CheckHop(grant, mustURL(t, "https://api.example.com/y")); err != nil {
		t.Errorf("hop in scope: %v", err)
	}
	if err := g.CheckHop(grant, mustURL(t, "https://elsewhere.example/")); codeOf(err) != "key_forbidden" {
		t.Errorf("hop out of the key's scope: %v", err)
	}
	if err := g.CheckHop(nil, mustURL(t, "https://elsewhere.example/")); err != nil {
		t.Errorf("keyless hop: %v", err)
	}
}

// TestNilAndEmptyGuard: no store and no secrets. Nothing is required or
// blocked, and a presented key or token is a mistake worth surfacing.
func TestNilAndEmptyGuard(t *testing.T) {
	var nilGuard *Guard
	for name, g := range map[string]*Guard{"nil": nilGuard, "zero config": newGuard(t, Config{})} {
		target := mustURL(t, "https://api.example.com/")
		if grant, err := g.Authorize("", "https://a.example", "", target, time.Now()); grant != nil || err != nil {
			t.Errorf("%s: no key: %v %v", name, grant, err)
		}
		_, secret := mustKey(t, "k", time.Time{}, "", nil, nil)
		tok, _ := SignToken(secretA, demoClaims(time.Now().Add(time.Hour)))
		for _, cred := range []string{secret, tok} {
			if _, err := g.Authorize(cred, "https://demo.example", "", mustURL(t, "https://api.example.com/v1/"), time.Now()); codeOf(err) != "key_forbidden" {
				t.Errorf("%s: a key with no store: %v", name, err)
			}
		}
		if err := g.CheckHop(nil, target); err != nil {
			t.Errorf("%s: CheckHop: %v", name, err)
		}
		if err := g.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	}
}

func TestKeyNamesAndRecords(t *testing.T) {
	for _, ok := range []string{"a", "team-ci_2.prod", strings.Repeat("x", 64)} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", 65), "has space", "token:x", "ünï", "a/b"} {
		if err := ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
	k, secret := mustKey(t, "ci", time.Time{}, "", nil, nil)
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) != 47 || strings.Contains(k.SHA256, secret) || len(k.SHA256) != 64 {
		t.Errorf("secret %q, record %+v", secret, k)
	}
	_, other := mustKey(t, "ci", time.Time{}, "", nil, nil)
	if other == secret {
		t.Error("two keys with the same secret")
	}
	for name, args := range map[string]struct {
		rate             string
		origins, targets []string
	}{
		"bad rate":   {rate: "fast"},
		"bad origin": {origins: []string{"app.example/x"}},
		"bad target": {targets: []string{"https://api.example.com"}},
	} {
		if _, _, err := NewKey("k", time.Time{}, args.rate, args.origins, args.targets, time.Now()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := NewKey("bad name", time.Time{}, "", nil, nil, time.Now()); err == nil {
		t.Error("bad name accepted")
	}
}

func TestStatus(t *testing.T) {
	var nilGuard *Guard
	tests := []struct {
		name string
		g    *Guard
		want string
	}{
		{"nil", nilGuard, StatusNotConfigured},
		{"zero config", newGuard(t, Config{}), StatusNotConfigured},
		{"tokens only", newGuard(t, Config{TokenSecrets: []string{secretA}}), StatusHealthy},
		{"key required, tokens only", newGuard(t, Config{RequireKey: true, TokenSecrets: []string{secretA}}), StatusHealthy},
		{"keys file", newGuard(t, Config{Store: keysFile(t, Data{})}), StatusHealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Status(); got != tt.want {
				t.Errorf("Status() = %q, want %q", got, tt.want)
			}
		})
	}
}
