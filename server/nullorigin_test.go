package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
)

// TestNullOriginJudgedByReferer: a denied or blocked page gets 403, and so
// does its sandboxed iframe, which sends Origin: null with the page's
// Referer. The CORS answer still names what the browser sent ("*" here, with
// no allowlist). An operator denies or blocks "null" itself like any origin;
// a page that suppresses its Referer is what only such a rule refuses.
func TestNullOriginJudgedByReferer(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(upstream.URL, "http://")
	withDeny := func(deny ...string) func(*Deps) {
		return func(d *Deps) {
			d.Policy = loopbackPolicy(t, func(c *allowlist.Config) { c.DenyOrigins = deny })
		}
	}
	denied := newProxy(t, withDeny("https://denied.example"))
	blocked := newProxy(t, withAccess(t, access.Config{}, access.Data{Blocks: access.Blocks{Origins: []string{"blocked.example"}}}))
	nullDenied := newProxy(t, withDeny("null"))
	nullBlocked := newProxy(t, withAccess(t, access.Config{}, access.Data{Blocks: access.Blocks{Origins: []string{"null"}}}))
	sandboxed := func(referer string) map[string]string {
		h := map[string]string{"Origin": "null"}
		if referer != "" {
			h["Referer"] = referer
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		p       *proxyFixture
		headers map[string]string
		code    string // "" for 200
	}{
		{"denied page", denied, map[string]string{"Origin": "https://denied.example"}, "origin_forbidden"},
		{"denied page's sandboxed frame", denied, sandboxed("https://denied.example/app"), "origin_forbidden"},
		{"other page's sandboxed frame", denied, sandboxed("https://fine.example/app"), ""},
		{"denied page without a Referer: open", denied, sandboxed(""), ""},
		{"blocked page", blocked, map[string]string{"Origin": "https://blocked.example"}, "origin_blocked"},
		{"blocked page's sandboxed frame", blocked, sandboxed("https://blocked.example/app?x=1"), "origin_blocked"},
		{"other page's sandboxed frame past a block", blocked, sandboxed("https://fine.example/"), ""},
		{"null denied", nullDenied, sandboxed(""), "origin_forbidden"},
		{"null denied, whatever the Referer", nullDenied, sandboxed("https://fine.example/"), "origin_forbidden"},
		{"null denied, real origins pass", nullDenied, map[string]string{"Origin": "https://fine.example"}, ""},
		{"null blocked", nullBlocked, sandboxed(""), "origin_blocked"},
		{"null blocked, whatever the Referer", nullBlocked, sandboxed("https://fine.example/"), "origin_blocked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := tc.p.do(t, "GET", "/http://"+host+"/x", nil, tc.headers)
			if tc.code != "" {
				checkErrorContract(t, res, body, http.StatusForbidden, tc.code)
			} else if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
			}
		})
	}
}
