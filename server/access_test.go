package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/access"
)

// withAccess gives the proxy a Guard over a keys file holding d.
func withAccess(t *testing.T, cfg access.Config, d access.Data) func(*Deps) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	raw, _ := json.Marshal(d)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := access.OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = store
	g, err := access.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return func(d *Deps) { d.Access = g }
}

func newKey(t *testing.T, name, rate string, expires time.Time, origins, targets []string) (access.Key, string) {
	t.Helper()
	k, secret, err := access.NewKey(name, expires, rate, origins, targets, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

const tokenSecret = "server-test-token-secret-0123456789abcdef"

// TestKeyParamStrippedByteForByte: the key reaches the proxy in the query,
// never the upstream; every other byte of the query does, unchanged.
func TestKeyParamStrippedByteForByte(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(upstream.URL, "http://")
	k, secret := newKey(t, "team", "off", time.Time{}, nil, nil)
	p := newProxy(t, withAccess(t, access.Config{RequireKey: true}, access.Data{Keys: []access.Key{k}}))
	enc := url.QueryEscape(secret)
	tests := []struct{ name, path, want string }{
		{"only param", "/a%2Fb?corsbridge_key=" + secret, "/a%2Fb"},
		{"first", "/x?corsbridge_key=" + secret + "&q=%26&y=a+b", "/x?q=%26&y=a+b"},
		{"middle", "/x?a=%2f&corsbridge_key=" + secret + "&b=`c`", "/x?a=%2f&b=`c`"},
		{"last", "/x?a=1&&b=&corsbridge_key=" + secret, "/x?a=1&&b="},
		{"twice", "/x?corsbridge_key=" + secret + "&a=1&corsbridge_key=other", "/x?a=1"},
		{"encoded name", "/x?a=1&corsbridge%5Fkey=" + secret, "/x?a=1"},
		{"encoded value", "/x?corsbridge_key=" + enc + "&z=%E2%82%AC", "/x?z=%E2%82%AC"},
		{"only an empty piece left", "/x?&corsbridge_key=" + secret, "/x?"},
		{"lookalike names kept", "/x?corsbridge_keys=1&my_corsbridge_key=2&corsbridge_key=" + secret, "/x?corsbridge_keys=1&my_corsbridge_key=2"},
		{"query form", "/?url=" + url.QueryEscape("http://"+host+"/f?x=%2F&y=1") + "&corsbridge_key=" + secret, "/f?x=%2F&y=1"},
		{"query form, key in the target", "/?url=" + url.QueryEscape("http://"+host+"/f?corsbridge_key="+secret+"&x=1"), "/f?x=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if !strings.HasPrefix(path, "/?") {
				path = "/" + upstream.URL + path
			}
			res, body := p.do(t, "GET", path, nil, nil)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			got := rec.last(t)
			if got.RequestURI != tc.want {
				t.Errorf("upstream request URI = %q, want %q", got.RequestURI, tc.want)
			}
			if strings.Contains(res.Header.Get("X-Request-Url"), secret) || strings.Contains(res.Header.Get("X-Final-Url"), secret) {
				t.Errorf("the key is echoed in X-Request-URL or X-Final-URL: %v", res.Header)
			}
		})
	}
	// In the header: dropped, never forwarded.
	res, _ := p.do(t, "GET", "/"+upstream.URL+"/h?corsbridge_keyx=1", nil, map[string]string{"Origin": "https://app.example", HeaderKey: secret})
	if got := rec.last(t); res.StatusCode != 200 || got.Header.Get(HeaderKey) != "" || got.RequestURI != "/h?corsbridge_keyx=1" {
		t.Errorf("header key: status %d, upstream saw %s %v", res.StatusCode, got.RequestURI, got.Header)
	}
	if strings.Contains(p.Logs.String(), secret) || strings.Contains(p.Logs.String(), k.SHA256) {
		t.Errorf("the log shows the key:\n%s", p.Logs.String())
	}
	if !strings.Contains(p.Logs.String(), `"key":"team"`) {
		t.Errorf("the log does not name the key:\n%s", p.Logs.String())
	}
}

func TestCutKeyParam(t *testing.T) {
	for _, tc := range []struct {
		raw, rest, value string
		kept, found      bool
	}{
		{"", "", "", false, false},
		{"a=1", "a=1", "", true, false},
		{"a=%zz", "a=%zz", "", true, false},
		{"corsbridge_key=K", "", "K", false, true},
		{"corsbridge_key", "", "", false, true},
		{"corsbridge_key=%20K+", "", "K", false, true},
		{"corsbridge_key=a%2Bb", "", "a+b", false, true},
		{"corsbridge_key=%zz&a", "a", "%zz", true, true},
		{"a;corsbridge_key=K", "a;corsbridge_key=K", "", true, false},
		{"%63orsbridge_key=K&b=2", "b=2", "K", true, true},
	} {
		rest, kept, value, found := cutKeyParam(tc.raw)
		if rest != tc.rest || kept != tc.kept || value != tc.value || found != tc.found {
			t.Errorf("cutKeyParam(%q) = %q %v %q %v, want %q %v %q %v", tc.raw, rest, kept, value, found, tc.rest, tc.kept, tc.value, tc.found)
		}
	}
}

// TestRequireKey: 401 without a key, 403 with a bad one, both readable by
// the page; preflights need no key.
func TestRequireKey(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(upstream.URL, "http://")
	team, teamSecret := newKey(t, "team", "", time.Time{}, nil, nil)
	scoped, scopedSecret := newKey(t, "scoped", "", time.Time{}, []string{"https://app.example"}, []string{"127.0.0.1/v1/"})
	old, oldSecret := newKey(t, "old", "", time.Now().Add(-time.Hour), nil, nil)
	_, unknownSecret := newKey(t, "unknown", "", time.Time{}, nil, nil)
	token, err := access.SignToken(tokenSecret, access.Claims{
		Origins: []string{"https://demo.example"}, Targets: []string{"127.0.0.1/v1/*"},
		Expires: time.Now().Add(time.Hour).Unix(), Rate: "100/1h"})
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, withAccess(t, access.Config{RequireKey: true, TokenSecrets: []string{tokenSecret}}, access.Data{Keys: []access.Key{team, scoped, old}}))
	tests := []struct {
		name, path, origin, key string
		status                  int
		code                    string
	}{
		{"no key", "/v1/x", "https://app.example", "", 401, "key_required"},
		{"valid key", "/v1/x", "https://app.example", teamSecret, 200, ""},
		{"scoped key", "/v1/x", "https://app.example", scopedSecret, 200, ""},
		{"scoped key, wrong origin", "/v1/x", "https://evil.example", scopedSecret, 403, "key_forbidden"},
		{"scoped key, wrong target", "/v2/x", "https://app.example", scopedSecret, 403, "key_forbidden"},
		{"expired key", "/v1/x", "https://app.example", oldSecret, 403, "key_forbidden"},
		{"unknown key", "/v1/x", "https://app.example", unknownSecret, 403, "key_forbidden"},
		{"garbage", "/v1/x", "https://app.example", "let-me-in", 403, "key_forbidden"},
		{"token", "/v1/x", "https://demo.example", token, 200, ""},
		{"token, wrong origin", "/v1/x", "https://app.example", token, 403, "key_forbidden"},
		{"token, wrong target", "/v2/x", "https://demo.example", token, 403, "key_forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(rec.all())
			headers := map[string]string{"Origin": tc.origin}
			if tc.key != "" {
				headers[HeaderKey] = tc.key
			}
			res, body := p.do(t, "GET", "/http://"+host+tc.path, nil, headers)
			if tc.code != "" {
				checkErrorContract(t, res, body, tc.status, tc.code)
				if len(rec.all()) != n {
					t.Error("a refused request reached the upstream")
				}
				if tc.key != "" && strings.Contains(string(body), tc.key) {
					t.Errorf("the refusal echoes the key: %s", body)
				}
				return
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
		})
	}
	// Preflights never need a key: the browser cannot attach one.
	res, _ := p.do(t, "OPTIONS", "/http://"+host+"/v1/x", nil, map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-corsbridge-key"})
	if res.StatusCode != 204 || !strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "x-corsbridge-key") {
		t.Errorf("preflight without a key: %d %v", res.StatusCode, res.Header)
	}
	// Without REQUIRE_KEY, no key is fine and a wrong key is still an error.
	open := newProxy(t, withAccess(t, access.Config{}, access.Data{Keys: []access.Key{team}}))
	if res, _ := open.do(t, "GET", "/http://"+host+"/x", nil, nil); res.StatusCode != 200 {
		t.Errorf("no key, not required: %d", res.StatusCode)
	}
	res, body := open.do(t, "GET", "/http://"+host+"/x?corsbridge_key="+unknownSecret, nil, nil)
	checkErrorContract(t, res, body, 403, "key_forbidden")
	// No Guard at all: keys are refused the same way.
	bare := newProxy(t)
	res, body = bare.do(t, "GET", "/http://"+host+"/x", nil, map[string]string{"Origin": "https://app.example", HeaderKey: teamSecret})
	checkErrorContract(t, res, body, 403, "key_forbidden")
}

// TestPerKeyRateLimit: a key's requests count against the key's own limit,
// not the origin's or the client's, and the log says which limit refused.
func TestPerKeyRateLimit(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	k, secret := newKey(t, "team", "3/1m", time.Time{}, nil, nil)
	p := newProxy(t, withLimits(t, "1/1m", "2/1m"), withAccess(t, access.Config{}, access.Data{Keys: []access.Key{k}}))
	headers := map[string]string{"Origin": "https://app.example", HeaderKey: secret}
	for i := range 3 {
		res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, headers)
		if res.StatusCode != 200 || res.Header.Get("X-Ratelimit-Limit") != "3" {
			t.Fatalf("keyed request %d: %d %s %v", i+1, res.StatusCode, body, res.Header)
		}
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, headers)
	checkErrorContract(t, res, body, 429, "rate_limited")
	if !strings.Contains(p.Logs.String(), `"key":"team","limited_by":"key"`) {
		t.Errorf("log of the 429:\n%s", p.Logs.String())
	}
	// The origin and client quotas are untouched by the keyed requests.
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 200 || res.Header.Get("X-Ratelimit-Remaining") != "0" {
		t.Errorf("keyless request: %d %v", res.StatusCode, res.Header)
	}
	// Without any configured limits, the key's limit still holds.
	k2, secret2 := newKey(t, "solo", "1/1m", time.Time{}, nil, nil)
	unlimited := newProxy(t, withAccess(t, access.Config{}, access.Data{Keys: []access.Key{k2}}))
	headers[HeaderKey] = secret2
	if res, _ := unlimited.do(t, "GET", "/"+upstream.URL+"/", nil, headers); res.StatusCode != 200 {
		t.Fatalf("first keyed request: %d", res.StatusCode)
	}
	res, body = unlimited.do(t, "GET", "/"+upstream.URL+"/", nil, headers)
	checkErrorContract(t, res, body, 429, "rate_limited")
}

// TestBlocksAndRedirectHops: blocked origins and targets get their own
// codes; a redirect may not lead a key out of its scope or to a blocked
// target.
func TestBlocksAndRedirectHops(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if loc := r.URL.Query().Get("loc"); loc != "" {
			http.Redirect(w, r, loc, http.StatusFound)
		}
	})
	host := strings.TrimPrefix(upstream.URL, "http://")
	k, secret := newKey(t, "scoped", "", time.Time{}, nil, []string{"127.0.0.1/in/"})
	p := newProxy(t, withAccess(t, access.Config{}, access.Data{
		Keys:   []access.Key{k},
		Blocks: access.Blocks{Origins: []string{"evil.example"}, Targets: []string{"127.0.0.1/blocked/"}},
	}))
	keyed := map[string]string{"Origin": "https://app.example", HeaderKey: secret}
	tests := []struct {
		name, path string
		headers    map[string]string
		status     int
		code       string
	}{
		{"blocked origin", "/in/x", map[string]string{"Origin": "http://evil.example:3000"}, 403, "origin_blocked"},
		{"blocked target", "/blocked/x", nil, 403, "target_blocked"},
		{"free", "/free", nil, 200, ""},
		{"redirect to a blocked target", "/free?loc=/blocked/y", nil, 403, "target_blocked"},
		{"key in scope", "/in/x", keyed, 200, ""},
		{"key redirected within scope", "/in/x?loc=/in/y", keyed, 200, ""},
		{"key redirected out of scope", "/in/x?loc=/out", keyed, 403, "key_forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := p.do(t, "GET", "/http://"+host+tc.path, nil, tc.headers)
			if tc.code != "" {
				checkErrorContract(t, res, body, tc.status, tc.code)
			} else if res.StatusCode != tc.status {
				t.Errorf("status %d: %s", res.StatusCode, body)
			}
		})
	}
	for _, s := range rec.all() {
		if strings.HasPrefix(s.RequestURI, "/blocked") || strings.HasPrefix(s.RequestURI, "/out") {
			t.Errorf("the upstream received %s", s.RequestURI)
		}
	}
}
