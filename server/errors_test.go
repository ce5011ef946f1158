package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestErrorContract(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t)
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		status  int
		code    string
	}{
		{"invalid target", "GET", "/https://bad%20host/", nil, 400, "invalid_target"},
		{"unsupported scheme", "GET", "/ftp://files.example/", nil, 400, "invalid_target"},
		{"not found", "GET", "/robots.txt", nil, 404, "not_found"},
		{"header required", "GET", "/" + upstream.URL + "/", map[string]string{"Accept": "application/json"}, 400, "header_required"},
		{"X-Requested-With suffices", "GET", "/https://bad%20host/", map[string]string{"X-Requested-With": "x"}, 400, "invalid_target"},
		{"target forbidden", "GET", "/http://10.0.0.1/", nil, 403, "target_forbidden"},
		{"trace", "TRACE", "/" + upstream.URL + "/", nil, 405, "method_not_allowed"},
		{"websocket upgrade", "GET", "/" + upstream.URL + "/", map[string]string{"Origin": "https://a.example", "Connection": "Upgrade", "Upgrade": "websocket"}, 405, "method_not_allowed"},
		{"loop", "GET", "/" + upstream.URL + "/", map[string]string{"Origin": "https://a.example", "Via": "1.1 fly.io, 1.1 corsbridge"}, 508, "loop_detected"},
		{"body too large declared", "POST", "/" + upstream.URL + "/", nil, 413, "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.code == "body_too_large" {
				body = bytes.NewReader(make([]byte, DefaultMaxRequestBody+1))
			}
			res, data := p.do(t, tt.method, tt.path, body, tt.headers)
			checkErrorContract(t, res, data, tt.status, tt.code)
			if strings.Contains(string(data), "127.0.0.1") || strings.Contains(string(data), "10.0.0.1") {
				t.Errorf("error leaks an address: %s", data)
			}
		})
	}
}

func TestConnectRefused(t *testing.T) {
	p := newProxy(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nOrigin: https://a.example\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get(HeaderError) != "method_not_allowed" {
		t.Errorf("CONNECT: status %d code %q", res.StatusCode, res.Header.Get(HeaderError))
	}
}

func TestNavigationGetsFriendlyPage(t *testing.T) {
	p := newProxy(t, withSite(t))
	res, body := p.do(t, "GET", "/https://api.example.com/items", nil, map[string]string{
		"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate",
	})
	if res.StatusCode != 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get(HeaderError) != "header_required" || !strings.Contains(string(body), "api.example.com/items") {
		t.Errorf("page does not explain the target: %s", body)
	}
}

func TestRequireHeaderNone(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, func(d *Deps) { d.Config.RequireHeader = nil })
	res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Accept": "*/*"})
	if res.StatusCode != 200 {
		t.Errorf("status %d with no header required", res.StatusCode)
	}
}

func TestChunkedBodyOverLimit(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t, func(d *Deps) { d.Config.MaxRequestBody = 1000 })
	for _, size := range []int{1001, 200 << 10} { // within and beyond the replay buffer
		// io.MultiReader hides the length: the client sends it chunked.
		body := io.MultiReader(bytes.NewReader(make([]byte, size)))
		res, data := p.do(t, "POST", "/"+upstream.URL+"/", body, nil)
		checkErrorContract(t, res, data, 413, "body_too_large")
	}
	for _, r := range rec.all() {
		if len(r.Body) > 1000 {
			t.Errorf("upstream received %d bytes over the limit", len(r.Body))
		}
	}
}

func TestResponseTooLarge(t *testing.T) {
	payload := bytes.Repeat([]byte("y"), 5000)
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/declared" {
			w.Header().Set("Content-Length", "5000")
		} else {
			w.(http.Flusher).Flush() // chunked: no length declared
		}
		_, _ = w.Write(payload)
	})
	p := newProxy(t, func(d *Deps) { d.Config.MaxResponseBody = 4096 })

	res, body := p.do(t, "GET", "/"+upstream.URL+"/declared", nil, nil)
	checkErrorContract(t, res, body, 502, "response_too_large")

	req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/chunked", nil)
	req.Header.Set("Origin", "https://a.example")
	res, err := p.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("undeclared oversized body read completely (%d bytes): the client cannot tell it was cut", len(got))
	}
	if len(got) > 4096 {
		t.Errorf("client received %d bytes past the limit", len(got))
	}
}

func TestUpstreamTimeoutAndUnreachable(t *testing.T) {
	release := make(chan struct{})
	slow, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	p := newProxy(t, func(d *Deps) { d.Config.UpstreamTimeout = 200 * time.Millisecond })

	res, body := p.do(t, "GET", "/"+slow.URL+"/", nil, nil)
	checkErrorContract(t, res, body, 504, "upstream_timeout")

	// A port nothing listens on: connection refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	res, body = p.do(t, "GET", "/http://"+addr+"/", nil, nil)
	checkErrorContract(t, res, body, 502, "upstream_unreachable")
	if strings.Contains(string(body), addr) || strings.Contains(string(body), "refused") {
		t.Errorf("internal detail leaked: %s", body)
	}
}

func TestUpstreamResetMidBody(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
	})
	p := newProxy(t)
	req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/", nil)
	req.Header.Set("Origin", "https://a.example")
	// Either the response never starts or its body breaks off: never a
	// complete-looking response.
	if res, err := p.Client.Do(req); err == nil {
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatalf("read %d bytes without error: an aborted body looked complete", len(got))
		}
	}
	// The proxy is still fine.
	res2, _ := p.do(t, "GET", "/healthz", nil, nil)
	if res2.StatusCode != 200 {
		t.Errorf("healthz after reset: %d", res2.StatusCode)
	}
}

func TestEventStreamFlushedPerEvent(t *testing.T) {
	next := make(chan struct{})
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			_, _ = io.WriteString(w, "data: event"+string(rune('0'+i))+"\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})
	p := newProxy(t)
	req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/events", nil)
	req.Header.Set("Origin", "https://a.example")
	res, err := p.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewReader(res.Body)
	for i := range 3 {
		// Each event must arrive while the upstream is still holding the
		// stream open: nothing is buffered until the end.
		line, err := lines.ReadString('\n')
		if err != nil || line != "data: event"+string(rune('0'+i))+"\n" {
			t.Fatalf("event %d: %q, %v", i, line, err)
		}
		_, _ = lines.ReadString('\n')
		next <- struct{}{}
	}
}
