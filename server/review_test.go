package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

func TestTricklingBodyCutAtTheBodyTimeout(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer upstream.Close()
	host := strings.TrimPrefix(upstream.URL, "http://")
	p := newProxy(t, func(d *Deps) {
		d.Config.BodyIdleTimeout = 300 * time.Millisecond
		d.Config.BodyTimeout = time.Second
	})
	conn := rawClient(t, p)
	_, _ = io.WriteString(conn, "POST /http://"+host+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\nContent-Length: 60000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 100ms: never a pause long enough for the idle timeout
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := io.WriteString(conn, "x"); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a trickling body is still open: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 408 {
		t.Errorf("status %d, want 408", res.StatusCode)
	}
}

func TestClientThatStopsReadingIsCutOff(t *testing.T) {
	upstreamDone := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(upstreamDone)
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			default:
			}
		}
	}))
	defer upstream.Close()
	p := newProxy(t, func(d *Deps) { d.Config.UpstreamIdleTimeout = 300 * time.Millisecond })
	conn := rawClient(t, p)
	_, _ = io.WriteString(conn, "GET /"+upstream.URL+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
	// Read nothing: the proxy's writes block once the socket buffers fill.
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay to a client that stopped reading is still running after 10s")
	}
	// The handler itself returned (its log line is written last) while the
	// client still holds the connection open: no goroutine stays blocked
	// writing to it.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Logs.String(), `"msg":"request"`) {
		if time.Now().After(deadline) {
			t.Fatal("the handler is still blocked writing to a client that does not read")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
