package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/rate"
)

// TestKeyQuotas: a key's quotas are stored as daily, monthly and
// monthly_bytes (omitted when 0) and reach its grant; invalid ones make the
// key invalid.
func TestKeyQuotas(t *testing.T) {
	k, _, err := NewKey("team", time.Time{}, "1000/1h", nil, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(k)
	if s := string(plain); strings.Contains(s, "daily") || strings.Contains(s, "monthly") {
		t.Errorf("a key without quotas stores them: %s", s)
	}
	k.Daily, k.Monthly, k.MonthlyBytes = 1000, 20000, 500<<20
	b, _ := json.Marshal(k)
	for _, want := range []string{`"daily":1000`, `"monthly":20000`, `"monthly_bytes":524288000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("stored key %s lacks %s", b, want)
		}
	}
	var back Key
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	ck, err := back.compile()
	if err != nil {
		t.Fatal(err)
	}
	if want := (rate.Quota{Daily: 1000, Monthly: 20000, MonthlyBytes: 500 << 20}); ck.grant.Quota != want {
		t.Errorf("grant quota %+v, want %+v", ck.grant.Quota, want)
	}
	back.Monthly = -1
	if err := back.Validate(); err == nil || !strings.Contains(err.Error(), "monthly quota") {
		t.Errorf("a negative quota: %v", err)
	}
}

// TestTokenQuotas: a token carries its quotas in qd, qm and qb; a token
// signed before quotas existed (no such claims) verifies with none.
func TestTokenQuotas(t *testing.T) {
	now := time.Now()
	c := demoClaims(now.Add(time.Hour))
	c.Daily, c.Monthly, c.MonthlyBytes = 50, 1000, 1<<30
	tok, err := SignToken(secretA, c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(p.Payload); !strings.Contains(s, `"qd":50,"qm":1000,"qb":1073741824`) {
		t.Errorf("claims %s: want the quotas as qd, qm, qb", s)
	}
	g := newGuard(t, Config{TokenSecrets: []string{secretA}})
	target := mustURL(t, "https://api.example.com/v1/x")
	grant, aerr := g.Authorize(tok, "https://demo.example", "", target, now)
	if aerr != nil || grant.Quota != (rate.Quota{Daily: 50, Monthly: 1000, MonthlyBytes: 1 << 30}) {
		t.Fatalf("grant %+v %v", grant, aerr)
	}
	// Claims as a token signed before quotas existed: no q* fields at all.
	old := `{"v":1,"o":["https://demo.example"],"t":["api.example.com/v1/*"],"e":` + jsonInt(now.Add(time.Hour).Unix()) + `,"r":"100/1h"}`
	oldTok := signRaw(t, secretA, old)
	grant, aerr = g.Authorize(oldTok, "https://demo.example", "", target, now)
	if aerr != nil || !grant.Quota.Off() {
		t.Fatalf("an older token: %+v %v, want valid without quotas", grant, aerr)
	}
	c.Daily = rate.MaxQuota + 1
	if _, err := SignToken(secretA, c); err == nil {
		t.Error("SignToken took a daily quota over MaxQuota")
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// signRaw signs claims JSON as written, as an older corsbridge did.
func signRaw(t *testing.T, secret, claims string) string {
	t.Helper()
	signed := TokenPrefix + SecretID(secret) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	return signed + "." + base64.RawURLEncoding.EncodeToString(hmacSum(secret, signed))
}

func hmacSum(secret, text string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(text))
	return mac.Sum(nil)
}
