package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// Regression tests for findings of the security review.

func TestEarlyHintsNeverReachTheClientUnscrubbed(t *testing.T) {
	upstream := rawUpstream(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n"+
			"Set-Cookie: hint=1\r\nAccess-Control-Allow-Origin: https://evil.example\r\n"+
			"Access-Control-Allow-Credentials: true\r\nX-Corsbridge-Error: forged\r\n\r\n"+
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	p := newProxy(t, withLimits(t, "100/1m", "off"))
	conn := rawClient(t, p)
	_, _ = io.WriteString(conn, "GET /"+upstream+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("first response is %d: 1xx responses are relayed", res.StatusCode)
	}
	for _, name := range []string{"Set-Cookie", "Access-Control-Allow-Credentials", HeaderError} {
		if v := res.Header.Values(name); len(v) > 0 {
			t.Errorf("%s = %q reached the client", name, v)
		}
	}
	if res.Header.Get("X-Ratelimit-Remaining") == "" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("quota or CORS headers lost: %v", res.Header)
	}
}

func TestTrailersScrubbed(t *testing.T) {
	upstream := rawUpstream(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum, Set-Cookie\r\n\r\n"+
			"2\r\nok\r\n0\r\nX-Checksum: abc\r\nSet-Cookie: t=1\r\nAccess-Control-Allow-Origin: https://evil.example\r\n"+
			"X-Corsbridge-Error: forged\r\n\r\n")
	})
	p := newProxy(t)
	req, _ := http.NewRequest("GET", p.URL+"/"+upstream+"/", nil)
	req.Header.Set("Origin", "https://a.example")
	res, err := p.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.Trailer.Get("X-Checksum") != "abc" {
		t.Errorf("harmless trailer lost: %v", res.Trailer)
	}
	for _, name := range []string{"Set-Cookie", HeaderError} {
		if v := res.Trailer.Values(name); len(v) > 0 {
			t.Errorf("trailer %s = %q reached the client", name, v)
		}
	}
	if v := append(res.Header.Values("Access-Control-Allow-Origin"), res.Trailer.Values("Access-Control-Allow-Origin")...); len(v) != 1 {
		t.Errorf("Access-Control-Allow-Origin in header and trailer: %q", v)
	}
}

func TestUnderscoreAndIPClaimHeadersDropped(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t)
	conn := rawClient(t, p)
	host := strings.TrimPrefix(upstream.URL, "http://")
	_, _ = io.WriteString(conn, "GET /http://"+host+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n"+
		"X_Forwarded_For: 6.6.6.6\r\nX-Forwarded_For: 6.6.6.6\r\nCf_Connecting_Ip: 6.6.6.6\r\nX_Real_Ip: 6.6.6.6\r\n"+
		"Client-Ip: 6.6.6.6\r\nX-Originating-Ip: 6.6.6.6\r\nX-Original-Forwarded-For: 6.6.6.6\r\nX-Remote-Ip: 6.6.6.6\r\n"+
		"X-Kept: yes\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got := rec.last(t).Header
	for name, values := range got {
		for _, v := range values {
			if v == "6.6.6.6" {
				t.Errorf("%s: %s reached the upstream", name, v)
			}
		}
	}
	if got.Get("X-Kept") != "yes" {
		t.Errorf("an ordinary header was dropped")
	}
}

func TestUnknownMethodsGetTheErrorContract(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t)
	for _, tt := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"PURGE", "/" + upstream.URL + "/", 405, "method_not_allowed"},
		{"PROPFIND", "/" + upstream.URL + "/", 405, "method_not_allowed"},
		{"trace", "/" + upstream.URL + "/", 405, "method_not_allowed"},
		// Not the health routes' method: the path is then no target either.
		{"POST", "/healthz", 404, "not_found"},
		{"DELETE", "/readyz", 404, "not_found"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res, body := p.do(t, tt.method, tt.path, nil, nil)
			checkErrorContract(t, res, body, tt.status, tt.code)
		})
	}
}
