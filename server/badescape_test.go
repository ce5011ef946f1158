package server

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A path with a malformed percent-escape never reaches corsbridge: Go's
// net/http refuses the request line (url.ParseRequestURI) in its connection
// loop, before any handler or middleware, and offers no hook to answer
// otherwise. This pins that behaviour, which README documents, and the way
// round it: a literal "%" sent as "%25" reaches the upstream byte for byte.
func TestMalformedPercentEscapeRefusedByNetHTTP(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newProxy(t)
	for _, path := range []string{"/https://example.com/100%", "/https://example.com/%zz", "/https://example.com/a%4"} {
		t.Run(path, func(t *testing.T) {
			conn := rawClient(t, p)
			_, _ = io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("status %d, Content-Type %q, body %q: want net/http's plain 400", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			// If these ever appear, net/http let the request through to the
			// proxy's handlers: README's note on "%" can go.
			for _, name := range []string{"Access-Control-Allow-Origin", HeaderError, HeaderRequestID} {
				if v := res.Header.Get(name); v != "" {
					t.Errorf("%s = %q: the request reached corsbridge", name, v)
				}
			}
		})
	}
	t.Run("escaped as %25", func(t *testing.T) {
		res, _ := p.do(t, "GET", "/"+upstream.URL+"/100%25", nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got := rec.last(t).RequestURI; got != "/100%25" {
			t.Errorf("upstream got %q, want /100%%25", got)
		}
	})
}
