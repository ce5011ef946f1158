package ratelimit

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// slowLink forwards TCP between a client and Redis on loopback, holding
// every chunk Redis sends for delay: a Redis that answers, but too slowly.
type slowLink struct {
	ln    net.Listener
	delay time.Duration
	wg    sync.WaitGroup
}

func newSlowLink(t *testing.T, target string, delay time.Duration) *slowLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &slowLink{ln: ln, delay: delay}
	l.wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			l.wg.Go(func() { _, _ = io.Copy(server, client); server.Close() })
			l.wg.Go(func() {
				buf := make([]byte, 4096)
				for {
					n, err := server.Read(buf)
					if n > 0 {
						time.Sleep(l.delay)
						if _, werr := client.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				client.Close()
			})
		}
	})
	t.Cleanup(func() { ln.Close(); l.wg.Wait() })
	return l
}

func (l *slowLink) url() string { return "redis://" + l.ln.Addr().String() }

// TestSlowRedisCostsMilliseconds: a Redis that answers after 300ms must not
// slow every request by 300ms nor fail any: the short per-operation
// timeouts switch the limiter to its local fallback.
func TestSlowRedisCostsMilliseconds(t *testing.T) {
	link := newSlowLink(t, sharedRedisAddr(t), 300*time.Millisecond)
	l := newTestLimiter(t, Config{
		Origin:        Limit{Requests: 1000, Window: time.Minute},
		Client:        Limit{Requests: 1000, Window: time.Minute},
		RedisURL:      link.url(),
		FailMode:      FailOpen,
		OnLimited:     onLimitedJSON,
		OnUnavailable: onUnavailableJSON,
		probeInterval: 50 * time.Millisecond,
	})
	srv := httptest.NewServer(l.Middleware(okHandler))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	var slowest time.Duration
	for i := range 50 {
		start := time.Now()
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Header.Set("Origin", "https://slow.example")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("request %d failed with %d while Redis was slow (fail open)", i, res.StatusCode)
		}
		if i > 0 { // the first request pays for discovering the slowness
			slowest = max(slowest, time.Since(start))
		}
	}
	if got := l.Status(); got != StatusDegraded {
		t.Errorf("status %q with a 300ms Redis, want degraded", got)
	}
	t.Logf("slowest request after the first, with Redis answering in 300ms: %v", slowest)
	if slowest > 250*time.Millisecond {
		t.Errorf("a request took %v: the slow Redis is on the request path", slowest)
	}
}

func sharedRedisAddr(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(sharedRedisURL)
	if err != nil || u.Host == "" || u.Scheme != "redis" {
		t.Fatalf("the slow-Redis test needs a plain redis:// URL, have %q", sharedRedisURL)
	}
	return u.Host
}
