package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// The proxy sends a request with its transport and hands a redirect to
// http.Client only when one arrives (redirectTransport). These cover what
// the redirect tests do not: hops after the hand-over keep the first hop's
// context, and answers http.Client would not follow are relayed as they are.

// TestEarlyHintsOnARedirectHopNotRelayed: a 103 sent on a hop after a
// redirect is not relayed either.
func TestEarlyHintsOnARedirectHopNotRelayed(t *testing.T) {
	upstream := rawUpstream(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			for head := line; head != "\r\n"; {
				if head, err = br.ReadString('\n'); err != nil {
					return
				}
			}
			if strings.HasPrefix(line, "GET /start ") {
				_, _ = io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n")
				continue
			}
			_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nSet-Cookie: hint=1\r\n\r\n"+
				"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\narrived")
		}
	})
	p := newProxy(t)
	conn := rawClient(t, p)
	_, _ = io.WriteString(conn, "GET /"+upstream+"/start HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "arrived" {
		t.Fatalf("first response: %d %q, want the final 200 (1xx relayed?)", res.StatusCode, body)
	}
	if v := res.Header.Values("Set-Cookie"); len(v) > 0 {
		t.Errorf("Set-Cookie = %q reached the client", v)
	}
	if got := res.Header.Get("X-Final-Url"); got != upstream+"/final" {
		t.Errorf("X-Final-Url = %q", got)
	}
}

// TestRedirectLikeAnswersNotFollowed: 3xx answers http.Client does not
// follow reach the client, with Location through the proxy.
func TestRedirectLikeAnswersNotFollowed(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/300":
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusMultipleChoices)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		case "/302-nowhere":
			w.WriteHeader(http.StatusFound)
		}
	})
	p := newProxy(t)
	for path, want := range map[string]int{"/300": 300, "/304": 304, "/302-nowhere": 302} {
		res, _ := p.do(t, "GET", "/"+upstream.URL+path, nil, nil)
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d relayed", path, res.StatusCode, want)
		}
		if last := rec.last(t); last.RequestURI != path {
			t.Errorf("%s: the upstream last saw %s, want no further hop", path, last.RequestURI)
		}
		if path == "/300" && res.Header.Get("Location") != "/"+upstream.URL+"/elsewhere" {
			t.Errorf("300 Location = %q, want it through the proxy", res.Header.Get("Location"))
		}
	}
}

// TestRedirectHopUnreachable: a hop that cannot be reached after the
// hand-over is a 502 in the error contract.
func TestRedirectHopUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, closed+"/gone", http.StatusFound)
	})
	p := newProxy(t)
	res, body := p.do(t, "GET", "/"+upstream.URL+"/start", nil, nil)
	checkErrorContract(t, res, body, http.StatusBadGateway, "upstream_unreachable")
}
