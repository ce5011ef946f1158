package server

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// An upstream body that fails before its first byte is answered in the
// error contract, not by a connection closed without a status line: nothing
// had reached the client yet.
func TestUpstreamBodyFailsBeforeFirstByte(t *testing.T) {
	tests := []struct {
		name   string
		raw    string // the upstream's whole answer; then it closes, or holds
		hold   bool
		status int
		code   string
	}{
		{"declared length, closed before a byte", "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 100\r\nX-Upstream: 1\r\n\r\n", false, 502, "upstream_unreachable"},
		{"200 with a declared length, closed before a byte", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Upstream: 1\r\nVary: Accept\r\n\r\n", false, 502, "upstream_unreachable"},
		{"declared length, stalls before a byte", "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 100\r\nX-Upstream: 1\r\n\r\n", true, 504, "upstream_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hold := make(chan struct{})
			defer close(hold)
			upstream := rawUpstream(t, func(c net.Conn) {
				readRequestHead(c)
				_, _ = io.WriteString(c, tt.raw)
				if tt.hold {
					<-hold
				}
			})
			p := newProxy(t, func(d *Deps) { d.Config.UpstreamIdleTimeout = 300 * time.Millisecond })
			res, body := p.do(t, "GET", "/"+upstream+"/", nil, nil)
			checkErrorContract(t, res, body, tt.status, tt.code)
			for _, name := range []string{"X-Upstream", "X-Request-Url", "Content-Security-Policy"} {
				if v := res.Header.Values(name); len(v) > 0 {
					t.Errorf("the failed upstream's %s = %q reached the error", name, v)
				}
			}
			if res.Header.Get(HeaderRequestID) == "" {
				t.Error("the proxy's own X-Request-Id was lost")
			}
		})
	}
}

// The example of issue 13: a 418 whose chunked body is broken. ReverseProxy
// flushes the headers of a body of unknown length at once, on a timer, so
// either answer is right: the error contract when the body failed first,
// an aborted 418 when the headers had gone out. Never nothing at all.
func TestBrokenChunkedUpstreamBodyNeverEndsWithoutAStatus(t *testing.T) {
	upstream := rawUpstream(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 418 I'm a teapot\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
	})
	p := newProxy(t)
	var contract, aborted int
	for range 20 {
		req, _ := http.NewRequest("GET", p.URL+"/"+upstream+"/", nil)
		req.Header.Set("Origin", "https://a.example")
		res, err := p.Client.Do(req)
		if err != nil {
			t.Fatalf("no status line: %v", err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == 502 && err == nil:
			checkErrorContract(t, res, body, 502, "upstream_unreachable")
			contract++
		case res.StatusCode == 418 && err != nil:
			aborted++
		default:
			t.Fatalf("status %d, body error %v: want 502 in the contract or an aborted 418", res.StatusCode, err)
		}
	}
	t.Logf("%d answered in the error contract, %d aborted after the headers", contract, aborted)
}

// Holding the status line back must not hold back an event stream's
// headers: a page's EventSource opens on them, long before the first event.
func TestEventStreamHeadersArriveBeforeTheFirstEvent(t *testing.T) {
	release := make(chan struct{})
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: late\n\n")
	})
	defer close(release)
	p := newProxy(t)
	req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/events", nil)
	req.Header.Set("Origin", "https://a.example")
	got := make(chan *http.Response, 1)
	go func() {
		res, err := p.Client.Do(req)
		if err != nil {
			close(got)
			return
		}
		got <- res
	}()
	select {
	case res, ok := <-got:
		if !ok {
			t.Fatal("request failed")
		}
		defer res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Errorf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no headers within 5s while the stream waits for its first event")
	}
}
