package access

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	headerValue = "hdr-secret-VALUE-0001"
	queryValue  = "qry secret/VALUE+0002" // needs escaping in a query
)

// secretsGuard serves a keys file with two secrets, a key granting both, a
// key granting none, and the keyring that opens them.
func secretsGuard(t *testing.T) (g *Guard, granted, plain *Grant, logs *syncBuffer) {
	t.Helper()
	kr := mustKeyring(t, sealKeyA)
	withSecrets, withSecretsCred := mustKey(t, "demo", time.Time{}, "", nil, nil)
	withSecrets.Secrets = []string{"weather", "maps", "missing"}
	without, withoutCred := mustKey(t, "other", time.Time{}, "", nil, nil)
	store := keysFile(t, Data{Keys: []Key{withSecrets, without}, Secrets: []Secret{
		mustSecret(t, kr, "weather", "https://api.weather.example/v1/", "", "appid", queryValue),
		mustSecret(t, kr, "maps", "maps.example", "X-Api-Key", "", headerValue),
	}})
	logs = &syncBuffer{}
	g = newGuard(t, Config{Store: store, SecretsKey: kr, Logger: logs.logger()})
	target := mustURL(t, "https://api.weather.example/v1/")
	var err error
	if granted, err = g.Authorize(withSecretsCred, "", "", target, time.Now()); err != nil {
		t.Fatal(err)
	}
	if plain, err = g.Authorize(withoutCred, "", "", target, time.Now()); err != nil {
		t.Fatal(err)
	}
	return g, granted, plain, logs
}

func TestInject(t *testing.T) {
	g, granted, plain, logs := secretsGuard(t)
	for _, tc := range []struct {
		name      string
		grant     *Grant
		target    string
		header    string // the client's own X-Api-Key
		wantQuery string
		wantKey   string
		wantNames []string
	}{
		{"query secret on its target", granted, "https://api.weather.example/v1/now?q=Z%C3%BCrich&x=a+b", "",
			"q=Z%C3%BCrich&x=a+b&appid=qry+secret%2FVALUE%2B0002", "", []string{"weather"}},
		{"the client's own parameter is replaced, in any case", granted, "https://api.weather.example/v1/now?APPID=mine&q=1&appid=again", "",
			"q=1&appid=qry+secret%2FVALUE%2B0002", "", []string{"weather"}},
		{"header secret replaces the client's header", granted, "https://maps.example/tiles", "client-own-key",
			"", headerValue, []string{"maps"}},
		{"no grant", nil, "https://maps.example/tiles", "client-own-key", "", "client-own-key", nil},
		{"a key without the grant", plain, "https://maps.example/tiles", "", "", "", nil},
		{"another host", granted, "https://api.other.example/v1/now", "", "", "", nil},
		{"outside the path prefix", granted, "https://api.weather.example/v2/now", "", "", "", nil},
		{"http target for an https pattern", granted, "http://api.weather.example/v1/now", "", "", "", nil},
		{"another port", granted, "https://maps.example:8443/tiles", "", "", "", nil},
		{"a subdomain", granted, "https://eu.maps.example/tiles", "", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := mustURL(t, tc.target)
			out, _ := http.NewRequest("GET", tc.target, nil)
			if tc.header != "" {
				out.Header.Set("X-Api-Key", tc.header)
			}
			rawQuery := out.URL.RawQuery
			in := g.Secrets(tc.grant, target)
			in.Apply(out)
			if !slices.Equal(in.Names(), tc.wantNames) {
				t.Errorf("sent %v, want %v", in.Names(), tc.wantNames)
			}
			wantQuery := tc.wantQuery
			if wantQuery == "" {
				wantQuery = rawQuery // untouched, byte for byte
			}
			if out.URL.RawQuery != wantQuery {
				t.Errorf("query %q, want %q", out.URL.RawQuery, wantQuery)
			}
			if got := out.Header.Values("X-Api-Key"); tc.wantKey == "" && len(got) > 0 && got[0] != tc.header || tc.wantKey != "" && !slices.Equal(got, []string{tc.wantKey}) {
				t.Errorf("X-Api-Key %q, want %q", got, tc.wantKey)
			}
		})
	}
	for _, v := range []string{headerValue, queryValue, "qry+secret", sealKeyA} {
		if strings.Contains(logs.String(), v) {
			t.Errorf("the log holds %q:\n%s", v, logs)
		}
	}
}

func TestCarriesAndRedact(t *testing.T) {
	g, granted, _, _ := secretsGuard(t)
	out, _ := http.NewRequest("GET", "https://api.weather.example/v1/now?q=1", nil)
	in := g.Secrets(granted, out.URL)
	in.Apply(out)
	if in == nil {
		t.Fatal("nothing injected")
	}
	for u, want := range map[string]bool{
		"https://api.weather.example/v1/later":  true,
		"https://api.weather.example/v2/":       false,
		"http://api.weather.example/v1/later":   false,
		"https://evil.example/v1/later":         false,
		"https://api.weather.example:444/v1/x":  false,
		"https://api.weather.example/v1/%2e%2e": false,
	} {
		if got := in.Carries(mustURL(t, u)); got != want {
			t.Errorf("Carries(%s) = %v", u, got)
		}
	}
	if !(*Injection)(nil).Carries(mustURL(t, "https://anywhere.example/")) {
		t.Error("nothing injected, yet a hop is refused")
	}

	h := http.Header{
		"Location":      {"https://api.weather.example/v2/now?q=1&appid=qry+secret%2FVALUE%2B0002#top"},
		"X-Echo":        {"you sent qry secret/VALUE+0002"},
		"X-Echo-Path":   {"/keys/qry%20secret%2FVALUE+0002"},
		"Link":          {"</v1/next?appid=qry+secret%2FVALUE%2B0002>; rel=next"},
		"Content-Type":  {"application/json"},
		"X-Other-Param": {"appid-less"},
	}
	in.RedactHeader(h)
	want := http.Header{
		"Location":      {"https://api.weather.example/v2/now?q=1#top"},
		"X-Echo":        {"you sent REDACTED"},
		"X-Echo-Path":   {"/keys/REDACTED"},
		"Link":          {"</v1/next?appid=REDACTED>; rel=next"},
		"Content-Type":  {"application/json"},
		"X-Other-Param": {"appid-less"},
	}
	for k := range want {
		if !slices.Equal(h[k], want[k]) {
			t.Errorf("%s: %q, want %q", k, h[k], want[k])
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"https://api.weather.example/v1/now?q=1&appid=qry+secret%2FVALUE%2B0002", "https://api.weather.example/v1/now?q=1"},
		{"/v1/now?appid=x", "/v1/now"},
		{"/v1/now?AppId=x&b=2#f", "/v1/now?b=2#f"},
		{"no query at all", "no query at all"},
		{"dial tcp: lookup qry secret/VALUE+0002 failed", "dial tcp: lookup REDACTED failed"},
	} {
		if got := in.RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSecretsNeedTheKey: a store that holds secrets stops start-up without
// CORSBRIDGE_SECRETS_KEY or with a key that does not open them; with the
// right key it starts, and secrets set later are picked up and logged by
// name.
func TestSecretsNeedTheKey(t *testing.T) {
	kr := mustKeyring(t, sealKeyA)
	store := keysFile(t, Data{Secrets: []Secret{mustSecret(t, kr, "weather", "api.weather.example", "", "appid", queryValue)}})
	for name, ring := range map[string]*Keyring{"no key": nil, "the wrong key": mustKeyring(t, sealKeyB)} {
		t.Run(name, func(t *testing.T) {
			g, err := New(context.Background(), Config{Store: store, SecretsKey: ring})
			if err == nil {
				g.Close()
				t.Fatal("started")
			}
			if strings.Contains(err.Error(), queryValue) || !strings.Contains(err.Error(), "weather") {
				t.Errorf("error: %v", err)
			}
		})
	}
	logs := &syncBuffer{}
	g := newGuard(t, Config{Store: store, SecretsKey: kr, Logger: logs.logger(), PollInterval: fastPoll})
	if err := store.SetSecret(context.Background(), mustSecret(t, kr, "maps", "maps.example", "X-Api-Key", "", headerValue)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, func() string {
		if g.current().secrets["maps"] == nil {
			return "the new secret was not loaded"
		}
		return ""
	})
	if err := store.RemoveSecret(context.Background(), "weather"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, func() string {
		if logs.count(`"access: secret removed","secret":"weather"`) != 1 || logs.count(`"access: secret added","secret":"maps"`) != 1 {
			return "log:\n" + logs.String()
		}
		return ""
	})
	if strings.Contains(logs.String(), headerValue) || strings.Contains(logs.String(), queryValue) {
		t.Errorf("the log holds a value:\n%s", logs)
	}
}

// FuzzRedactURL: whatever the upstream's Location, redaction never panics
// and never leaves the value or the injected parameter in.
func FuzzRedactURL(f *testing.F) {
	in := &Injection{secrets: []*secret{{name: "w", query: "appid", value: "s3cret-value", escaped: valueForms("s3cret-value")}}}
	for _, s := range []string{"/x?appid=s3cret-value", "https://a.example/?a=1&APPID=2#f", "?appid", "s3cret-value", "/%zz?appid=%zz&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := in.RedactURL(s)
		if strings.Contains(got, "s3cret-value") {
			t.Fatalf("RedactURL(%q) = %q", s, got)
		}
		if q := strings.IndexByte(got, '?'); q >= 0 {
			query, _, _ := strings.Cut(got[q+1:], "#")
			if withoutParam(query, "appid") != query {
				t.Fatalf("RedactURL(%q) = %q keeps the parameter", s, got)
			}
		}
	})
}

// TestTokenGrantsSecrets: a signed token names the secrets it may send, and
// only those.
func TestTokenGrantsSecrets(t *testing.T) {
	kr := mustKeyring(t, sealKeyA)
	store := keysFile(t, Data{Secrets: []Secret{
		mustSecret(t, kr, "maps", "maps.example", "X-Api-Key", "", headerValue),
		mustSecret(t, kr, "weather", "maps.example", "", "appid", queryValue),
	}})
	g := newGuard(t, Config{Store: store, SecretsKey: kr, TokenSecrets: []string{secretA}})
	c := demoClaims(time.Now().Add(time.Hour))
	c.Targets = []string{"maps.example"}
	c.Secrets = []string{"maps"}
	tok, err := SignToken(secretA, c)
	if err != nil {
		t.Fatal(err)
	}
	target := mustURL(t, "https://maps.example/tiles?z=1")
	grant, err := g.Authorize(tok, c.Origins[0], "", target, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, _ := http.NewRequest("GET", target.String(), nil)
	in := g.Secrets(grant, target)
	in.Apply(out)
	if !slices.Equal(in.Names(), []string{"maps"}) ||
		out.Header.Get("X-Api-Key") != headerValue || out.URL.RawQuery != "z=1" {
		t.Errorf("sent %v: %v %q", in.Names(), out.Header, out.URL.RawQuery)
	}
	c.Secrets = []string{"bad name!"}
	if _, err := SignToken(secretA, c); err == nil {
		t.Error("signed a token naming an invalid secret")
	}
}
