package server

import (
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

// No URL query or path may reach any log line, at any level: redirect hops
// fail inside http.Client, whose errors quote the hop's whole URL.
func TestNoURLQueryOrPathInAnyLog(t *testing.T) {
	const secret = "zq7secret4711"
	closed := closedLoopbackPort(t)
	hold := make(chan struct{})
	defer close(hold)
	silent := rawUpstream(t, func(c net.Conn) { <-hold })
	upstream, _ := newUpstream(t, redirector)
	logs := &logbuf.Buffer{} // every level, ReverseProxy's own messages too
	p := newProxy(t, func(d *Deps) {
		d.Config.UpstreamTimeout = 300 * time.Millisecond
		d.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tests := []struct {
		name   string
		loc    string // where the upstream redirects; "" asks the target itself
		target string
		status int
	}{
		{"hop refuses connections", "http://" + closed + "/" + secret + "?api_key=" + secret, "", 502},
		{"hop times out", silent + "/" + secret + "?api_key=" + secret, "", 504},
		{"hop Location does not parse", "http://[::1/" + secret + "?api_key=" + secret, "", 502},
		{"hop has no host", "http:///" + secret + "?api_key=" + secret, "", 502},
		{"hop with credentials", "http://user:" + secret + "@" + closed + "/", "", 502},
		{"hop refused by policy", "http://10.0.0.1/" + secret + "?api_key=" + secret, "", 403},
		{"target refuses connections", "", "http://" + closed + "/" + secret + "?api_key=" + secret, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target
			if target == "" {
				target = upstream.URL + "/to?code=302&x=" + secret + "&loc=" + url.QueryEscape(tt.loc)
			}
			res, _ := p.do(t, "GET", "/"+target, nil, nil)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
	all := logs.String()
	if n := strings.Count(all, "upstream_error"); n < len(tests)-1 {
		t.Fatalf("%d upstream_error fields for %d failures: the test proves nothing:\n%s", n, len(tests), all)
	}
	if strings.Contains(all, secret) {
		t.Errorf("a URL's path, query or password reached the log:\n%s", all)
	}
}

// closedLoopbackPort is a loopback address nothing listens on.
func closedLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
