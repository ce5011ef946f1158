package server

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestForwardsEveryMethodWithBody(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusCreated)
	})
	p := newProxy(t)
	binary := make([]byte, 4096)
	_, _ = rand.Read(binary)
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		t.Run(method, func(t *testing.T) {
			var body io.Reader
			if method != "GET" && method != "HEAD" && method != "OPTIONS" {
				body = bytes.NewReader(binary)
			}
			res, _ := p.do(t, method, "/"+upstream.URL+"/m", body, nil)
			if res.StatusCode != http.StatusCreated || res.Header.Get("X-Method") != method {
				t.Fatalf("status %d, X-Method %q", res.StatusCode, res.Header.Get("X-Method"))
			}
			got := rec.last(t)
			if got.Method != method {
				t.Errorf("upstream saw %s", got.Method)
			}
			if body != nil && !bytes.Equal(got.Body, binary) {
				t.Errorf("upstream body differs: %d bytes", len(got.Body))
			}
		})
	}
}

func TestLargeBodyStreamsUnchanged(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t)
	payload := make([]byte, 3<<20) // beyond the replay buffer: streamed, not buffered
	_, _ = rand.Read(payload)
	res, _ := p.do(t, "POST", "/"+upstream.URL+"/upload", bytes.NewReader(payload), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := rec.last(t).Body; !bytes.Equal(got, payload) {
		t.Fatalf("upstream got %d bytes, want the %d sent", len(got), len(payload))
	}
}

func TestPathAndQueryReachUpstreamByteForByte(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t)
	for _, raw := range []string{
		"/a%2Fb/c?x=%26&y=a+b",
		"/sp%20ace/../dots/./x//y",
		"/%e2%82%ac?q=%2f&empty=",
		"/a|b{c}?d=`e`",
	} {
		t.Run(raw, func(t *testing.T) {
			p.do(t, "GET", "/"+upstream.URL+raw, nil, nil)
			if got := rec.last(t).RequestURI; got != raw {
				t.Errorf("upstream request URI = %q, want %q", got, raw)
			}
		})
	}
}

func TestURLForms(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(upstream.URL, "http://")
	p := newProxy(t)
	tests := []struct{ name, path string }{
		{"absolute", "/http://" + host + "/form?x=1"},
		{"collapsed slashes", "/http:/" + host + "/form?x=1"},
		{"query form", "/?url=" + url.QueryEscape("http://"+host+"/form?x=1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := p.do(t, "GET", tt.path, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			got := rec.last(t)
			if got.RequestURI != "/form?x=1" || got.Host != host {
				t.Errorf("upstream saw %s with Host %s", got.RequestURI, got.Host)
			}
		})
	}
}

func TestRequestHeaderHygiene(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, func(d *Deps) { d.Config.TrustedProxyHeader = "X-Edge-Client" })
	p.do(t, "GET", "/"+upstream.URL+"/h", nil, map[string]string{
		"Origin":            "https://app.example",
		"Authorization":     "Bearer kept",
		"X-Custom":          "kept",
		"Cookie":            "session=secret",
		"Cookie2":           "$Version=1",
		"Forwarded":         "for=1.2.3.4",
		"X-Forwarded-For":   "1.2.3.4",
		"X-Forwarded-Host":  "evil.example",
		"X-Forwarded-Proto": "https",
		"X-Real-Ip":         "1.2.3.4",
		"Fly-Client-Ip":     "1.2.3.4",
		"Cf-Connecting-Ip":  "1.2.3.4",
		"Via":               "1.1 someproxy",
		"X-Edge-Client":     "1.2.3.4",
		"Connection":        "X-Secret",
		"X-Secret":          "hop-by-hop by nomination",
		"X-Original-Url":    "/admin",
		"X-Rewrite-Url":     "/admin",
		"X-Override-Url":    "/admin",
		"X-Original-Uri":    "/admin",
		"X-Host":            "internal.example",
	})
	got := rec.last(t)
	for _, kept := range []string{"Authorization", "X-Custom", "Origin"} {
		if got.Header.Get(kept) == "" {
			t.Errorf("%s was not forwarded", kept)
		}
	}
	for _, dropped := range []string{"Cookie", "Cookie2", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host",
		"X-Forwarded-Proto", "X-Real-Ip", "Fly-Client-Ip", "Cf-Connecting-Ip", "X-Edge-Client", "X-Secret",
		"X-Original-Url", "X-Rewrite-Url", "X-Override-Url", "X-Original-Uri", "X-Host"} {
		if v := got.Header.Values(dropped); len(v) > 0 {
			t.Errorf("%s reached the upstream: %q", dropped, v)
		}
	}
	if via := got.Header.Values("Via"); !slices.Equal(via, []string{"1.1 corsbridge"}) {
		t.Errorf("Via = %q, want only the proxy's own", via)
	}
	if got.Host != strings.TrimPrefix(upstream.URL, "http://") {
		t.Errorf("Host = %q, want the target's", got.Host)
	}
}

func TestForwardClientIPOption(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, func(d *Deps) { d.Config.ForwardClientIP = true })
	p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://a.example", "X-Forwarded-For": "6.6.6.6"})
	if got := rec.last(t).Header.Values("X-Forwarded-For"); !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("X-Forwarded-For = %q, want only the real client", got)
	}
}

// originHeaders act on the origin that serves them: relayed, on the proxy's.
var originHeaders = []string{"Set-Login", "Origin-Trial", "Accept-CH", "Critical-CH", "Speculation-Rules",
	"Refresh", "Origin-Agent-Cluster", "Supports-Loading-Mode", "Attribution-Reporting-Register-Source",
	"Attribution-Reporting-Register-Trigger", "Observe-Browsing-Topics", "Shared-Storage-Write",
	"Activate-Storage-Access", "Secure-Session-Registration", "Ad-Auction-Signals"}

// hostile is an upstream that tries everything a proxy must not relay.
func hostile(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "https://evil.example")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "X-Nothing")
	h.Add("Set-Cookie", "a=1; Path=/")
	h.Add("Set-Cookie", "b=2")
	h.Set("Set-Cookie2", "c=3")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("Alt-Svc", `h3=":443"`)
	h.Set("Clear-Site-Data", `"*"`)
	h.Set("Service-Worker-Allowed", "/")
	h.Set("NEL", `{"report_to":"x","max_age":1}`)
	h.Set("Report-To", `{"group":"x"}`)
	for _, name := range originHeaders {
		h.Set(name, "hostile")
	}
	h.Set(HeaderError, "forged")
	h.Set("X-Final-Url", "https://forged.example/")
	h.Set("X-Ratelimit-Limit", "5000")
	h.Set("Connection", "X-Secret")
	h.Set("X-Secret", "should vanish")
	h.Set("X-Custom", "visible")
	h.Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "<script>alert(document.domain)</script>")
}

func TestResponseHeaderHygiene(t *testing.T) {
	upstream, _ := newUpstream(t, hostile)
	p := newProxy(t)
	res, body := p.do(t, "GET", "/"+upstream.URL+"/hostile", nil, nil)
	if string(body) != "<script>alert(document.domain)</script>" {
		t.Errorf("body = %q", body)
	}
	h := res.Header
	if got := h.Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{"*"}) {
		t.Errorf("Access-Control-Allow-Origin = %q, want exactly [*]", got)
	}
	for _, dropped := range append([]string{"Access-Control-Allow-Credentials", "Set-Cookie", "Set-Cookie2", "Strict-Transport-Security",
		"Alt-Svc", "Clear-Site-Data", "Service-Worker-Allowed", "Nel", "Report-To", HeaderError, "X-Secret"}, originHeaders...) {
		if v := h.Values(dropped); len(v) > 0 {
			t.Errorf("%s reached the client: %q", dropped, v)
		}
	}
	if got := h.Get("X-Final-Url"); got != upstream.URL+"/hostile" {
		t.Errorf("X-Final-Url = %q, the upstream forged it", got)
	}
	if got := h.Get("X-Request-Url"); got != upstream.URL+"/hostile" {
		t.Errorf("X-Request-Url = %q", got)
	}
	if got := h.Get("X-Upstream-X-Ratelimit-Limit"); got != "5000" {
		t.Errorf("upstream rate-limit header not kept aside: %q", got)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || !slices.Contains(h.Values("Content-Security-Policy"), "sandbox") {
		t.Errorf("missing nosniff or CSP sandbox: %v", h)
	}
	exposed := strings.Split(h.Get("Access-Control-Expose-Headers"), ", ")
	for _, want := range []string{"X-Custom", "X-Final-Url", "X-Request-Url", "X-Upstream-X-Ratelimit-Limit", HeaderError} {
		if !slices.Contains(exposed, want) {
			t.Errorf("%s not in Access-Control-Expose-Headers %q", want, exposed)
		}
	}
	if slices.Contains(exposed, "X-Nothing") {
		t.Errorf("the upstream's own expose list leaked: %q", exposed)
	}
}

func TestCompressedBodyRelayedAsIs(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte("compress me "), 1000))
	_ = zw.Close()
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz.Bytes())
	})
	p := newProxy(t)
	res, body := p.do(t, "GET", "/"+upstream.URL+"/gz", nil, map[string]string{"Origin": "https://a.example", "Accept-Encoding": "gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, gz.Bytes()) {
		t.Errorf("Content-Encoding %q, %d bytes; want the %d gzip bytes untouched", res.Header.Get("Content-Encoding"), len(body), gz.Len())
	}
	if got := rec.last(t).Header.Get("Accept-Encoding"); got != "gzip" {
		t.Errorf("upstream Accept-Encoding = %q, want the client's", got)
	}
}
