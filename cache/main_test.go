package cache

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// sharedRedisURL is REDIS_URL, or a redis-server TestMain started.
var sharedRedisURL string

func TestMain(m *testing.M) {
	url, stop, err := redistest.Shared()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cache tests need redis-server or REDIS_URL:", err)
		os.Exit(1)
	}
	sharedRedisURL = url
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		stop()
		os.Exit(code)
	}))
}

// newCache builds a cache from cfg and closes it after the test.
func newCache(t testing.TB, cfg Config, opts Options) *Cache {
	t.Helper()
	c, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// redisClient is a client on url, closed after the test.
func redisClient(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// upstream is an httptest server that counts its requests and keeps the
// headers of the last one.
type upstream struct {
	*httptest.Server
	count atomic.Int64
	mu    sync.Mutex
	last  http.Header
}

func newUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.count.Add(1)
		u.mu.Lock()
		u.last = r.Header.Clone()
		u.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastHeader() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// cookieDropped stands in for the server's scrub table: the proxy never
// forwards cookies.
func cookieDropped(name string) bool { return name == "Cookie" }

// newProxy is a small proxy wired as the server's pipeline wires the
// cache: lookup, then forward through httputil.ReverseProxy with Outbound
// in Rewrite, Decide before the scrub and Store after it in
// ModifyResponse, Failed in ErrorHandler, and per-request headers (CORS,
// request id) added after Store. It forwards every path to up.
func newProxy(t testing.TB, c *Cache, up string) *httptest.Server {
	t.Helper()
	target, err := url.Parse(up)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	var ids atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tx := c.Lookup(r.Context(), Request{
			Method: r.Method, URL: up + r.URL.RequestURI(), Header: r.Header,
			HasBody: r.ContentLength != 0, Partition: r.Header.Get("X-Test-Partition"),
		})
		defer tx.Done()
		perRequest := func(h http.Header) {
			h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			h.Set("X-Request-Id", fmt.Sprint(ids.Add(1)))
			h.Set("X-Test-Outcome", tx.Outcome())
		}
		if resp := tx.Response(); resp != nil {
			perRequest(w.Header())
			_ = resp.Write(w)
			return
		}
		rp := &httputil.ReverseProxy{
			Transport: transport,
			ErrorLog:  log.New(io.Discard, "", 0),
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Header.Del("Cookie")
				tx.Outbound(pr.Out.Header)
			},
			ModifyResponse: func(res *http.Response) error {
				tx.Decide(res, false)
				res.Header.Del("Set-Cookie") // the server's scrub, in short
				res.Header.Del("Access-Control-Allow-Origin")
				tx.Store(res)
				perRequest(res.Header)
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if resp := tx.Failed(); resp != nil {
					perRequest(w.Header())
					_ = resp.Write(w)
					return
				}
				perRequest(w.Header())
				w.WriteHeader(http.StatusBadGateway)
			},
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}
