package cache

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// validatingUpstream serves body with an ETag and Last-Modified and answers
// a matching conditional request with 304; status, when set, replaces every
// answer after the first.
type validatingUpstream struct {
	*upstream
	mu     sync.Mutex
	status int
}

func newValidatingUpstream(t *testing.T, cc string) *validatingUpstream {
	v := &validatingUpstream{}
	v.upstream = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		status := v.status
		v.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, "upstream error")
			return
		}
		w.Header().Set("Cache-Control", cc)
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 30 Nov 2026 12:00:00 GMT")
		if r.Header.Get("If-None-Match") == `"v1"` || (r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") != "") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "the body")
	})
	return v
}

func (v *validatingUpstream) fail(status int) {
	v.mu.Lock()
	v.status = status
	v.mu.Unlock()
}

func TestRevalidation(t *testing.T) {
	clk := newClock()
	c := newCache(t, DefaultConfig(), Options{Now: clk.now})
	up := newValidatingUpstream(t, "max-age=60")
	proxy := newProxy(t, c, up.URL)
	runSteps(t, proxy.URL, up.upstream, "/r", []step{{body: "the body", outcome: "miss", upstream: 1}})
	clk.advance(61 * time.Second)
	runSteps(t, proxy.URL, up.upstream, "/r", []step{
		{body: "the body", outcome: "revalidated", cacheSt: "corsbridge; fwd=stale; fwd-status=304; stored; ttl=60", upstream: 2},
	})
	if inm := up.lastHeader().Get("If-None-Match"); inm != `"v1"` {
		t.Fatalf("revalidation sent If-None-Match %q", inm)
	}
	if ims := up.lastHeader().Get("If-Modified-Since"); ims == "" {
		t.Fatal("revalidation sent no If-Modified-Since")
	}
	runSteps(t, proxy.URL, up.upstream, "/r", []step{{body: "the body", outcome: "hit", upstream: 2}})
	if s := c.Stats(); s.Revalidations != 1 || s.HitsMemory != 1 || s.Misses != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestClientConditional(t *testing.T) {
	c := newCache(t, DefaultConfig(), Options{})
	up := newValidatingUpstream(t, "max-age=60")
	proxy := newProxy(t, c, up.URL)
	runSteps(t, proxy.URL, up.upstream, "/c", []step{
		// A miss fetches a whole response to store, whatever the client sent.
		{header: []string{"If-None-Match", `"v1"`}, body: "the body", outcome: "miss", upstream: 1},
		{header: []string{"If-None-Match", `"v0", W/"v1"`}, status: http.StatusNotModified, outcome: "hit", cacheSt: "corsbridge; hit", upstream: 1},
		{header: []string{"If-None-Match", `"v2"`}, body: "the body", outcome: "hit", upstream: 1},
		{header: []string{"If-Modified-Since", "Tue, 01 Dec 2026 00:00:00 GMT"}, status: http.StatusNotModified, outcome: "hit", upstream: 1},
		{header: []string{"If-Modified-Since", "Sun, 01 Nov 2026 00:00:00 GMT"}, body: "the body", outcome: "hit", upstream: 1},
	})
	res, _ := fetch(t, http.MethodGet, proxy.URL+"/c", "If-None-Match", `"v1"`)
	if res.Header.Get("Etag") != `"v1"` || res.Header.Get("Cache-Status") == "" || res.Header.Get("Age") == "" || res.Header.Get("Content-Length") != "" {
		t.Fatalf("304 headers %v", res.Header)
	}
}

func TestStaleIfError(t *testing.T) {
	tests := []struct {
		name    string
		cc      string
		later   time.Duration
		breakUp func(*validatingUpstream)
		status  int
		outcome string
	}{
		{"5xx within the window", "max-age=60, stale-if-error=600", 120 * time.Second, func(v *validatingUpstream) { v.fail(503) }, 200, "stale"},
		{"5xx after the window", "max-age=60, stale-if-error=600", 700 * time.Second, func(v *validatingUpstream) { v.fail(503) }, 503, "miss"},
		{"unreachable within the window", "max-age=60, stale-if-error=600", 120 * time.Second, func(v *validatingUpstream) { v.Close() }, 200, "stale"},
		{"unreachable without stale-if-error", "max-age=60", 120 * time.Second, func(v *validatingUpstream) { v.Close() }, 502, "miss"},
		{"must-revalidate forbids it", "max-age=60, stale-if-error=600, must-revalidate", 120 * time.Second, func(v *validatingUpstream) { v.fail(500) }, 500, "miss"},
		{"4xx is an answer, not an error", "max-age=60, stale-if-error=600", 120 * time.Second, func(v *validatingUpstream) { v.fail(404) }, 404, "miss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			c := newCache(t, DefaultConfig(), Options{Now: clk.now})
			up := newValidatingUpstream(t, tt.cc)
			proxy := newProxy(t, c, up.URL)
			fetch(t, http.MethodGet, proxy.URL+"/e")
			clk.advance(tt.later)
			tt.breakUp(up)
			res, body := fetch(t, http.MethodGet, proxy.URL+"/e")
			if res.StatusCode != tt.status || res.Header.Get("X-Test-Outcome") != tt.outcome {
				t.Fatalf("status %d outcome %q (Cache-Status %q), want %d %q", res.StatusCode, res.Header.Get("X-Test-Outcome"), res.Header.Get("Cache-Status"), tt.status, tt.outcome)
			}
			if tt.outcome == "stale" && (body != "the body" || !strings.Contains(res.Header.Get("Cache-Status"), "detail=stale-if-error")) {
				t.Fatalf("stale answer %q, Cache-Status %q", body, res.Header.Get("Cache-Status"))
			}
		})
	}
}

// TestStaleWhileRevalidate: while one request revalidates a stale entry,
// others get the stale entry at once instead of waiting.
func TestStaleWhileRevalidate(t *testing.T) {
	clk := newClock()
	c := newCache(t, DefaultConfig(), Options{Now: clk.now})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=30")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") != "" {
			entered <- struct{}{}
			<-release
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "the body")
	})
	proxy := newProxy(t, c, up.URL)
	fetch(t, http.MethodGet, proxy.URL+"/s")
	clk.advance(70 * time.Second)
	done := make(chan string)
	go func() {
		res, _ := fetch(t, http.MethodGet, proxy.URL+"/s")
		done <- res.Header.Get("X-Test-Outcome")
	}()
	<-entered
	res, body := fetch(t, http.MethodGet, proxy.URL+"/s")
	if res.Header.Get("X-Test-Outcome") != "stale" || body != "the body" || !strings.HasPrefix(res.Header.Get("Cache-Status"), "corsbridge; hit; ttl=-10") {
		t.Fatalf("during revalidation: outcome %q Cache-Status %q body %q", res.Header.Get("X-Test-Outcome"), res.Header.Get("Cache-Status"), body)
	}
	close(release)
	if got := <-done; got != "revalidated" {
		t.Fatalf("the revalidating request: outcome %q", got)
	}
	if s := c.Stats(); s.StaleServed != 1 || s.Revalidations != 1 || up.count.Load() != 2 {
		t.Fatalf("stats %+v, %d upstream requests", s, up.count.Load())
	}
}
