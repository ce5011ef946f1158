package server

import (
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/access"
)

const (
	apiKeyValue = "upstream-header-key-7f3a9c"
	appIDValue  = "upstream query/key+4b1e" // needs escaping
)

var appIDEscaped = url.QueryEscape(appIDValue)

// secretsFixture is a proxy with two secrets for a TLS upstream's /v1/ (a
// header and a query parameter), one for a plain-http upstream named
// explicitly, a key granting them all, a key granting none, and a second
// TLS upstream no secret may reach.
type secretsFixture struct {
	p                 *proxyFixture
	api, other, plain *httptest.Server
	apiRec, otherRec  *recorder
	plainRec          *recorder
	granted, ungrant  string
}

func newSecretsFixture(t *testing.T) *secretsFixture {
	t.Helper()
	f := &secretsFixture{}
	var apiURL, otherURL string
	f.api, f.apiRec = newTLSUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/hop":
			http.Redirect(w, r, "/v1/final?page=2", http.StatusFound)
		case "/v1/leave":
			// Echoes the query it got into a Location elsewhere.
			http.Redirect(w, r, otherURL+"/steal?"+r.URL.RawQuery, http.StatusFound)
		case "/v1/echo":
			w.Header().Set("X-Echo-Key", "got "+r.Header.Get("X-Api-Key"))
			w.Header().Set("X-Echo-Query", r.URL.RawQuery)
			w.Header().Set("Location", apiURL+"/v1/next?"+r.URL.RawQuery)
			w.Header().Set("Trailer", "X-Trailer-Key")
			w.Write([]byte("body"))
			w.Header().Set("X-Trailer-Key", r.Header.Get("X-Api-Key"))
		}
	})
	apiURL = f.api.URL
	f.other, f.otherRec = newTLSUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	otherURL = f.other.URL
	f.plain, f.plainRec = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})

	kr, err := access.ParseKeyring(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	plainHost := strings.TrimPrefix(f.plain.URL, "http://")
	secrets := []access.Secret{
		mustSecret(t, kr, "hdr", f.api.URL+"/v1/", "X-Api-Key", "", apiKeyValue),
		mustSecret(t, kr, "qry", f.api.URL+"/v1/", "", "appid", appIDValue),
		// https implied: never sent to the plain-http upstream.
		mustSecret(t, kr, "implied", plainHost+"/implied/", "X-Api-Key", "", apiKeyValue),
		mustSecret(t, kr, "explicit", f.plain.URL+"/explicit/", "X-Api-Key", "", apiKeyValue),
	}
	k, granted := newKey(t, "demo", "off", time.Time{}, nil, nil)
	k.Secrets = []string{"hdr", "qry", "implied", "explicit"}
	other, ungrant := newKey(t, "plain", "off", time.Time{}, nil, nil)
	f.granted, f.ungrant = granted, ungrant
	roots := x509.NewCertPool()
	roots.AddCert(f.api.Certificate())
	f.p = newProxy(t,
		withAccess(t, access.Config{SecretsKey: kr}, access.Data{Keys: []access.Key{k, other}, Secrets: secrets}),
		func(d *Deps) {
			d.UpstreamRoots = roots
			// example.com is in the test certificate, and another host than 127.0.0.1.
			d.LookupHost = fakeDNS(map[string][]string{"example.com": {"127.0.0.1"}})
		})
	return f
}

func newTLSUpstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, *recorder) {
	t.Helper()
	rc := &recorder{}
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.record(r)
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, rc
}

func mustSecret(t *testing.T, kr *access.Keyring, name, target, header, query, value string) access.Secret {
	t.Helper()
	s, err := access.NewSecret(kr, name, target, header, query, []byte(value), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSecretsInjected: a secret reaches its upstream only for a key that
// grants it and a target inside its pattern, replacing the client's own
// value.
func TestSecretsInjected(t *testing.T) {
	f := newSecretsFixture(t)
	apiPort := f.api.URL[strings.LastIndexByte(f.api.URL, ':'):]
	for _, tc := range []struct {
		name      string
		target    string
		key       string
		rec       *recorder
		wantKey   string // X-Api-Key the upstream got
		wantQuery string // the query the upstream got
	}{
		{"granted key, inside the pattern", f.api.URL + "/v1/items?q=a%2Fb", f.granted, f.apiRec, apiKeyValue, "q=a%2Fb&appid=" + appIDEscaped},
		{"the client's own values are replaced", f.api.URL + "/v1/items?appid=mine&APPID=again", f.granted, f.apiRec, apiKeyValue, "appid=" + appIDEscaped},
		{"no key", f.api.URL + "/v1/items?appid=mine", "", f.apiRec, "client-own", "appid=mine"},
		{"a key without the grant", f.api.URL + "/v1/items?q=1", f.ungrant, f.apiRec, "client-own", "q=1"},
		{"outside the path prefix", f.api.URL + "/v2/items?q=1", f.granted, f.apiRec, "client-own", "q=1"},
		{"another port", f.other.URL + "/v1/items?q=1", f.granted, f.otherRec, "client-own", "q=1"},
		{"another host", "https://example.com" + apiPort + "/v1/items?q=1", f.granted, f.apiRec, "client-own", "q=1"},
		{"http target, https implied", f.plain.URL + "/implied/x", f.granted, f.plainRec, "client-own", ""},
		{"http target named explicitly", f.plain.URL + "/explicit/x", f.granted, f.plainRec, apiKeyValue, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := map[string]string{"Origin": "https://app.example", "X-Api-Key": "client-own"}
			if tc.key != "" {
				headers[HeaderKey] = tc.key
			}
			res, body := f.p.do(t, "GET", "/"+tc.target, nil, headers)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			got := tc.rec.last(t)
			if v := got.Header.Values("X-Api-Key"); len(v) != 1 || v[0] != tc.wantKey {
				t.Errorf("upstream got X-Api-Key %q, want %q", v, tc.wantKey)
			}
			if _, q, _ := strings.Cut(got.RequestURI, "?"); q != tc.wantQuery {
				t.Errorf("upstream got query %q, want %q", q, tc.wantQuery)
			}
			if res.Header.Get("X-Request-Url") != tc.target {
				t.Errorf("X-Request-Url %q, want the target as sent, %q", res.Header.Get("X-Request-Url"), tc.target)
			}
		})
	}
}

// TestSecretsStayInside: a redirect hop inside the pattern is followed and
// carries the secrets; one leaving it is handed back, and nothing reaches
// the other host; no header the proxy writes, and no log line, holds a
// secret's value.
func TestSecretsStayInside(t *testing.T) {
	f := newSecretsFixture(t)
	headers := map[string]string{"Origin": "https://app.example", HeaderKey: f.granted}
	var all []*http.Response

	res, _ := f.p.do(t, "GET", "/"+f.api.URL+"/v1/hop", nil, headers)
	all = append(all, res)
	last := f.apiRec.last(t)
	if res.StatusCode != 200 || !strings.HasPrefix(last.RequestURI, "/v1/final?page=2&appid=") || last.Header.Get("X-Api-Key") != apiKeyValue {
		t.Errorf("hop inside: %d, upstream got %s %q", res.StatusCode, last.RequestURI, last.Header.Get("X-Api-Key"))
	}
	if got := res.Header.Get("X-Final-Url"); got != f.api.URL+"/v1/final?page=2" {
		t.Errorf("X-Final-Url %q", got)
	}

	res, _ = f.p.do(t, "GET", "/"+f.api.URL+"/v1/leave?q=1", nil, headers)
	all = append(all, res)
	if res.StatusCode != http.StatusFound || len(f.otherRec.all()) != 0 {
		t.Errorf("hop leaving: %d, the other host got %d requests", res.StatusCode, len(f.otherRec.all()))
	}
	if got := res.Header.Get("Location"); got != f.other.URL+"/steal?q=1" {
		t.Errorf("Location %q, want the hop without the secret", got)
	}

	res, _ = f.p.do(t, "GET", "/"+f.api.URL+"/v1/echo?q=1", nil, headers)
	all = append(all, res)
	if res.StatusCode != 200 || res.Header.Get("X-Echo-Key") != "got "+access.Redacted || res.Header.Get("X-Echo-Query") != "q=1&appid="+access.Redacted {
		t.Errorf("echo: %d %v", res.StatusCode, res.Header)
	}

	for _, res := range all {
		for name, values := range res.Header {
			for _, v := range append(values, res.Trailer.Values(name)...) {
				if leaks(v) {
					t.Errorf("response header %s: %q", name, v)
				}
			}
		}
		for name, values := range res.Trailer {
			if leaks(strings.Join(values, ",")) {
				t.Errorf("trailer %s: %q", name, values)
			}
		}
	}
	f.p.Client.CloseIdleConnections()
	if leaks(f.p.Logs.String()) || !strings.Contains(f.p.Logs.String(), `"secrets":["hdr","qry"]`) {
		t.Errorf("log:\n%s", f.p.Logs.String())
	}
}

func leaks(s string) bool {
	for _, v := range []string{apiKeyValue, appIDValue, appIDEscaped, url.PathEscape(appIDValue)} {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// TestSecretsRedactedFromErrors: a hop the upstream cannot complete fails
// with an error whose text (the hop's URL, query included) reaches the log
// redacted.
func TestSecretsRedactedFromErrors(t *testing.T) {
	var apiURL string
	broken, _ := newTLSUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/first" {
			http.Redirect(w, r, apiURL+"/v1/dead?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		// Hang up mid-answer: the hop fails after the secret was sent.
		hj, _ := w.(http.Hijacker)
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
		}
	})
	apiURL = broken.URL
	kr, _ := access.ParseKeyring(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	k, cred := newKey(t, "demo", "off", time.Time{}, nil, nil)
	k.Secrets = []string{"qry"}
	roots := x509.NewCertPool()
	roots.AddCert(broken.Certificate())
	p := newProxy(t,
		withAccess(t, access.Config{SecretsKey: kr}, access.Data{Keys: []access.Key{k}, Secrets: []access.Secret{
			mustSecret(t, kr, "qry", broken.URL+"/v1/", "", "appid", appIDValue)}}),
		func(d *Deps) { d.UpstreamRoots = roots })
	res, body := p.do(t, "GET", "/"+broken.URL+"/v1/first?q=1", nil, map[string]string{"Origin": "https://app.example", HeaderKey: cred})
	checkErrorContract(t, res, body, http.StatusBadGateway, "upstream_unreachable")
	waitLog(t, p, `"upstream_error"`)
	if leaks(p.Logs.String()) || leaks(string(body)) {
		t.Errorf("log or body holds the value:\n%s\n%s", p.Logs.String(), body)
	}
}

func waitLog(t *testing.T, p *proxyFixture, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the log:\n%s", want, p.Logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
