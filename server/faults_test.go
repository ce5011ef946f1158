package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawUpstream accepts connections on loopback and hands each to serve, for
// upstreams that misbehave below HTTP.
func rawUpstream(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				serve(conn)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readRequestHead consumes a request's header block.
func readRequestHead(conn net.Conn) *bufio.Reader {
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return br
		}
	}
}

// rawClient opens a connection to the proxy for requests http.Client would
// not send (stalled bodies).
func rawClient(t *testing.T, p *proxyFixture) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestUpstreamAcceptsAndNeverAnswers(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	upstream := rawUpstream(t, func(c net.Conn) { <-hold })
	p := newProxy(t, func(d *Deps) { d.Config.UpstreamTimeout = 300 * time.Millisecond })
	start := time.Now()
	res, body := p.do(t, "GET", "/"+upstream+"/", nil, nil)
	checkErrorContract(t, res, body, 504, "upstream_timeout")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("504 took %v with a 300ms timeout", elapsed)
	}
}

func TestUpstreamStallsMidBodyIsCutOff(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	upstream := rawUpstream(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst part")
		<-hold
	})
	p := newProxy(t, func(d *Deps) { d.Config.UpstreamIdleTimeout = 300 * time.Millisecond })
	req, _ := http.NewRequest("GET", p.URL+"/"+upstream+"/", nil)
	req.Header.Set("Origin", "https://a.example")
	res, err := p.Client.Do(req)
	if err != nil {
		return // aborted before the headers were flushed: also not a complete-looking response
	}
	defer res.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(res.Body); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a stalled body was relayed as complete")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client still waits 10s after the upstream stalled")
	}
}

func TestUpstreamShortBodyAborted(t *testing.T) {
	upstream := rawUpstream(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"+strings.Repeat("x", 100))
	})
	p := newProxy(t)
	req, _ := http.NewRequest("GET", p.URL+"/"+upstream+"/", nil)
	req.Header.Set("Origin", "https://a.example")
	if res, err := p.Client.Do(req); err == nil {
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Errorf("a %d-byte body declared as 5000 looked complete", len(got))
		}
	}
}

func TestInvalidUpstreamResponsesAre502(t *testing.T) {
	for name, raw := range map[string]string{
		"garbage status line":     "HELLO THERE\r\n\r\n",
		"non-numeric status":      "HTTP/1.1 abc OK\r\n\r\n",
		"invalid header line":     "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
		"negative length":         "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
		"conflicting lengths":     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"closed before a byte":    "",
		"binary noise":            "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"bad transfer encoding":   "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n",
		"header with a NUL":       "HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\n\r\n",
		"status out of range 999": "HTTP/1.1 1000 Nope\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			upstream := rawUpstream(t, func(c net.Conn) {
				readRequestHead(c)
				_, _ = io.WriteString(c, raw)
			})
			p := newProxy(t)
			res, body := p.do(t, "GET", "/"+upstream+"/", nil, nil)
			checkErrorContract(t, res, body, 502, "upstream_unreachable")
		})
	}
}

func TestGzipBombRelayedCompressed(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for range 64 { // 64 MiB of zeros, about 64 KiB compressed
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bomb.Bytes())
	})
	p := newProxy(t, func(d *Deps) { d.Config.MaxResponseBody = 1 << 20 })
	res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://a.example", "Accept-Encoding": "gzip"})
	if res.StatusCode != 200 || !bytes.Equal(body, bomb.Bytes()) {
		t.Fatalf("status %d, %d bytes; want the %d compressed bytes as sent", res.StatusCode, len(body), bomb.Len())
	}
}

func TestRedirectLoopStopsAtLimit(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	p := newProxy(t)
	res, _ := p.do(t, "GET", "/"+upstream.URL+"/loop", nil, nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/"+upstream.URL+"/loop" {
		t.Errorf("status %d Location %q, want the 302 back through the proxy", res.StatusCode, res.Header.Get("Location"))
	}
	if n := len(rec.all()); n != DefaultMaxRedirects+1 {
		t.Errorf("upstream saw %d requests, want %d", n, DefaultMaxRedirects+1)
	}
}

func TestStalledRequestBodyIs408(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	host := strings.TrimPrefix(upstream.URL, "http://")
	p := newProxy(t, func(d *Deps) { d.Config.BodyIdleTimeout = 300 * time.Millisecond })
	for name, length := range map[string]int{"buffered for replay": 100, "streamed": 1 << 20} {
		t.Run(name, func(t *testing.T) {
			conn := rawClient(t, p)
			_, _ = io.WriteString(conn, "POST /http://"+host+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n"+
				"Content-Length: "+itoa(length)+"\r\n\r\n"+strings.Repeat("y", min(length/2, 70000)))
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response to a stalled body: %v", err)
			}
			defer res.Body.Close()
			if res.StatusCode != 408 || res.Header.Get(HeaderError) != "request_timeout" {
				t.Errorf("status %d code %q, want 408 request_timeout", res.StatusCode, res.Header.Get(HeaderError))
			}
		})
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	cancelled := make(chan string, 2)
	// Not newUpstream: its recorder would read the body first.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" { // headers only after the client gave up
			<-r.Context().Done()
			cancelled <- "slow answer"
			return
		}
		if r.URL.Path == "/upload" {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				cancelled <- "upload"
			}
			return
		}
		for { // an endless download
			if _, err := w.Write(make([]byte, 32<<10)); err != nil {
				cancelled <- "download"
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				cancelled <- "download"
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	defer upstream.Close()
	host := strings.TrimPrefix(upstream.URL, "http://")
	p := newProxy(t)

	t.Run("mid-upload", func(t *testing.T) {
		conn := rawClient(t, p)
		_, _ = io.WriteString(conn, "POST /http://"+host+"/upload HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n"+
			"Content-Length: 10000000\r\n\r\n"+strings.Repeat("z", 200000))
		time.Sleep(100 * time.Millisecond)
		conn.Close()
		expectSignal(t, cancelled, "upload")
	})
	t.Run("waiting for headers", func(t *testing.T) {
		conn := rawClient(t, p)
		_, _ = io.WriteString(conn, "GET /http://"+host+"/slow HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
		conn.Close()
		expectSignal(t, cancelled, "slow answer")
	})
	t.Run("mid-download", func(t *testing.T) {
		conn := rawClient(t, p)
		_, _ = io.WriteString(conn, "GET /http://"+host+"/download HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
		buf := make([]byte, 100000)
		_, _ = io.ReadFull(conn, buf)
		conn.Close()
		expectSignal(t, cancelled, "download")
	})
}

func expectSignal(t *testing.T, ch chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the upstream %s was not cancelled after the client left", want)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
