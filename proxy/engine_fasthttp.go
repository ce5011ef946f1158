//go:build corsbridge_fasthttp

package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// fastEngine is the engine under measurement for issue 17: fasthttp's
// client, called in the handler's own goroutine, instead of ReverseProxy and
// net/http's transport, whose read and write loops cost two goroutine
// handoffs per request. It dials through the same SSRF hook, scrubs with the
// same tables, follows redirects under the same policy and fails through the
// same Deps.Fail. Only the corsbridge_fasthttp build tag selects it: it exists
// to be measured, and is kept only if it wins with every test passing.
type fastEngine struct {
	f       *Forwarder
	client  *fasthttp.Client
	buffers *bufferPool
}

func (f *Forwarder) newEngine(d Deps) func(ex *exchange, r *http.Request) {
	e := &fastEngine{f: f, buffers: newBufferPool()}
	dial := guardedDialer(d)
	header, idle := d.Config.UpstreamTimeout, d.Config.UpstreamIdleTimeout
	dialTimeout := min(d.Config.UpstreamTimeout, 10*time.Second)
	e.client = &fasthttp.Client{
		Dial: func(addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
			defer cancel()
			c, err := dial(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, header: header, idle: idle}, nil
		},
		TLSConfig:                clientTLS(d.RootCAs),
		NoDefaultUserAgentHeader: true, // a request without User-Agent goes without, as with ReverseProxy
		DisablePathNormalizing:   true, // paths byte for byte
		StreamResponseBody:       true,
		MaxConnsPerHost:          1024,
		MaxConnWaitTimeout:       d.Config.UpstreamTimeout,
		MaxIdleConnDuration:      90 * time.Second,
		ReadBufferSize:           32 << 10, // also the cap on a response head
		WriteBufferSize:          32 << 10,
	}
	return e.forward
}

// idleConn gives the upstream connection the proxy's two read timeouts,
// since fasthttp's own (ReadTimeout) covers a whole response, stream and all:
// after a request is written, the head must start within the upstream
// timeout; after that, each read within the idle timeout.
type idleConn struct {
	net.Conn
	header, idle time.Duration
	awaiting     atomic.Bool // a request went out; its answer has not started
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.awaiting.Store(true)
	return c.Conn.Write(p)
}

func (c *idleConn) Read(p []byte) (int, error) {
	limit := c.idle
	if c.awaiting.Load() {
		limit = c.header
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(limit))
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.awaiting.Store(false)
	}
	return n, err
}

// forward is one exchange: the request, the redirects followed, the relay.
func (e *fastEngine) forward(ex *exchange, r *http.Request) {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	defer func() { _ = res.CloseBodyStream() }()
	streamed := e.buildRequest(req, ex, r)
	ex.cancel = func() {} // the connection's own deadlines stop a stalled upstream
	ex.outcome.UpstreamStart = time.Now()
	final, err := e.do(ex, req, res, streamed)
	if err != nil && (isTimeout(err) || errors.Is(err, fasthttp.ErrDialTimeout)) {
		// fasthttp's timeout errors are not net.Errors; classify reads these.
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	if err != nil {
		e.f.errorHandler(ex.w, r, err)
		return
	}
	e.relay(ex, r, final, res)
}

// hopByHop are the headers ReverseProxy removes both ways (RFC 9110 7.6.1).
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// buildRequest fills req from the client's request as ReverseProxy's
// Rewrite does. It reports whether the body streams once (not replayable).
func (e *fastEngine) buildRequest(req *fasthttp.Request, ex *exchange, r *http.Request) bool {
	cfg := e.f.cfg
	h := r.Header.Clone()
	removeHopByHop(h)
	scrubRequestHeaders(h, cfg.TrustedProxyHeader)
	h.Set("Via", "1.1 "+viaToken)
	if cfg.ForwardClientIP {
		if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			h.Set("X-Forwarded-For", ip)
		}
	}
	req.Header.DisableNormalizing() // names exactly as net/http stored them
	req.SetRequestURI(TargetString(ex.req.Target))
	req.Header.SetMethod(r.Method)
	for name, values := range h {
		if name == "Host" || name == "Content-Length" {
			continue
		}
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	switch {
	case ex.replay != nil:
		req.SetBody(ex.replay)
	case r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0:
		req.SetBodyStream(r.Body, int(r.ContentLength)) // -1: chunked
		return true
	}
	return false
}

func removeHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// do sends req and follows redirects as http.Client does under
// checkRedirect: 301/302/303 become GET (HEAD stays), 307/308 keep method
// and body when the body can be replayed, every hop passes Deps.CheckHop,
// credentials stay behind when a hop leaves the origin. The Referer is never
// rewritten: each hop sees the page's own. It returns the final URL.
func (e *fastEngine) do(ex *exchange, req *fasthttp.Request, res *fasthttp.Response, streamed bool) (*url.URL, error) {
	current := ex.req.Target
	for hops := 0; ; hops++ {
		res.Header.SetNoDefaultContentType(true) // relay a missing Content-Type as missing
		if err := e.client.Do(req, res); err != nil {
			return nil, err
		}
		code := res.StatusCode()
		loc := res.Header.Peek("Location")
		switch {
		case len(loc) == 0 || hops >= e.f.cfg.MaxRedirects:
			return current, nil
		case code == http.StatusTemporaryRedirect || code == http.StatusPermanentRedirect:
			if streamed {
				return current, nil // the body went once and cannot be sent again
			}
		case code == http.StatusMovedPermanently || code == http.StatusFound || code == http.StatusSeeOther:
			if m := string(req.Header.Method()); m != http.MethodGet && m != http.MethodHead {
				req.Header.SetMethod(http.MethodGet)
				req.ResetBody()
				req.Header.Del("Content-Type")
				req.Header.Del("Content-Length")
				streamed = false
			}
		default:
			return current, nil
		}
		next, err := current.Parse(string(loc))
		_ = res.CloseBodyStream()
		if err != nil {
			return nil, fmt.Errorf("%w: Location does not parse: %w", ErrBadRedirect, err)
		}
		if e.f.checkHop != nil {
			if err := e.f.checkHop(ex.req.Grant, next); err != nil {
				return nil, &refused{err}
			}
		}
		if !sameOrigin(next, ex.req.Target) {
			for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"} {
				req.Header.Del(name)
			}
		}
		req.SetRequestURI(next.String())
		current = next
	}
}
