package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Loopback addresses of the three parties. corsbridge listens on 127.0.0.1.
const (
	upstreamIP = "127.0.0.2" // the API: no CORS headers of its own
	pageIP     = "127.0.0.3" // origin A: the page that fetches
	// refusedIP is loopback but outside CORSBRIDGE_ALLOW_PRIVATE, so the
	// proxy must refuse it; were the guard broken, it would still not leave
	// the machine.
	refusedIP = "127.0.0.9"
)

// serveOn starts an httptest server on ip, closed when t ends.
func serveOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s (Linux routes all of 127/8 to lo): %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// pageHTML is origin A's page. probe() fetches and reports what a script on
// the page can read: the status, every header it may see, the body, the JSON
// code of a proxy error, or the network error a CORS failure turns into.
const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>origin A</title>
<script>
window.probe = async (url, init) => {
  try {
    const res = await fetch(url, init);
    const headers = {};
    res.headers.forEach((value, name) => { headers[name] = value; });
    const body = await res.text();
    let code = "";
    try { code = JSON.parse(body).code || ""; } catch {}
    return { status: res.status, redirected: res.redirected, url: res.url, headers, body, code, error: "" };
  } catch (err) {
    return { status: 0, error: String(err) };
  }
};
</script></head>
<body><h1>A page on origin A</h1></body></html>`

// probeResult is what window.probe returns.
type probeResult struct {
	Status     int               `json:"status"`
	Redirected bool              `json:"redirected"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	Code       string            `json:"code"`
	Error      string            `json:"error"`
}

// startPage serves origin A's page on 127.0.0.3.
func startPage(t *testing.T) *httptest.Server {
	t.Helper()
	return serveOn(t, pageIP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, pageHTML)
	}))
}

// openPage loads origin A's page in a new tab.
func openPage(t *testing.T, page *httptest.Server) context.Context {
	t.Helper()
	ctx := needBrowser(t).tab(t)
	do(t, ctx, chromedp.Navigate(page.URL+"/"))
	return ctx
}

// probe runs window.probe(url, init) on the page; init is a JavaScript
// object literal or "{}".
func probe(t *testing.T, ctx context.Context, url, init string) probeResult {
	t.Helper()
	return eval[probeResult](t, ctx, "probe("+jsString(url)+", "+init+")")
}

// upstream is the API behind the proxy. It sends no Access-Control-*
// headers, records every request it gets, and streams events on cue.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	received []received
	release  chan struct{} // closed by the test: send the second event
	sent2    chan struct{} // closed by the upstream once the second event is written
	stop     chan struct{} // closed when the test ends, so open streams return
}

// received is one request as the upstream saw it.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{release: make(chan struct{}), sent2: make(chan struct{}), stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Custom", "custom-value")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "hello from upstream")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"echo":"ok"}`)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final?from=redirect", http.StatusFound)
	})
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "final body")
	})
	mux.HandleFunc("/events", u.events)
	u.Server = serveOn(t, upstreamIP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.received = append(u.received, received{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
		u.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(u.stop) }) // runs before the server's Close
	return u
}

// events sends one event, waits until the test releases it, then sends a
// second; the stream stays open until the client goes away.
func (u *upstream) events(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flush := func(s string) {
		_, _ = io.WriteString(w, s)
		http.NewResponseController(w).Flush()
	}
	flush("id: 1\ndata: one\n\n")
	select {
	case <-u.release:
	case <-r.Context().Done():
		return
	case <-u.stop:
		return
	}
	flush("id: 2\ndata: two\n\n")
	close(u.sent2)
	select {
	case <-r.Context().Done():
	case <-u.stop:
	}
}

// requests returns what the upstream received at path (query included).
func (u *upstream) requests(path string) []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []received
	for _, r := range u.received {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// all returns everything the upstream received.
func (u *upstream) all() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.received...)
}

// waitFor waits briefly for a request to path to reach the upstream: a
// page that gave up on a response does not wait for the server to finish.
func (u *upstream) waitFor(t *testing.T, path string) []received {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if got := u.requests(path); len(got) > 0 || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// port is the upstream's port, for targets that name it under another host.
func (u *upstream) port() string {
	_, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	return port
}
