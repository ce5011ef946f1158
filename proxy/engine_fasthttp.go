//go:build corsbridge_fasthttp

package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	f.closeEngine = e.client.CloseIdleConnections
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
	h, streamed := e.buildRequest(req, ex, r)
	ex.cancel = func() {} // the connection's own deadlines stop a stalled upstream
	ex.outcome.UpstreamStart = time.Now()
	final, err := e.do(ex, req, res, h, streamed)
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
// Rewrite does, and returns the headers sent (kept for redirect hops) and
// whether the body streams once (cannot be replayed).
func (e *fastEngine) buildRequest(req *fasthttp.Request, ex *exchange, r *http.Request) (http.Header, bool) {
	cfg := e.f.cfg
	out := &http.Request{Method: r.Method, URL: ex.req.Target, Header: r.Header.Clone()}
	removeHopByHop(out.Header)
	scrubRequestHeaders(out.Header, cfg.TrustedProxyHeader)
	if ex.req.Cache != nil {
		ex.req.Cache.Outbound(out.Header)
	}
	ex.sent = out.URL
	if ex.req.Secrets != nil {
		sent := *ex.req.Target // the target stays as the client sent it
		out.URL, ex.sent = &sent, &sent
		ex.req.Secrets.Apply(out)
	}
	out.Header.Set("Via", "1.1 "+viaToken)
	if cfg.ForwardClientIP {
		if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			out.Header.Set("X-Forwarded-For", ip)
		}
	}
	req.Header.DisableNormalizing() // names exactly as net/http stored them
	req.SetRequestURI(TargetString(out.URL))
	req.Header.SetMethod(r.Method)
	setHeaders(req, out.Header, nil)
	switch {
	case ex.replay != nil:
		req.SetBody(ex.replay)
	case r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0:
		req.SetBodyStream(r.Body, int(r.ContentLength)) // -1: chunked
		return out.Header, true
	}
	return out.Header, false
}

// setHeaders puts h on req, first removing the names in previous.
func setHeaders(req *fasthttp.Request, h, previous http.Header) {
	for name := range previous {
		req.Header.Del(name)
	}
	for name, values := range h {
		if name == "Host" || name == "Content-Length" {
			continue
		}
		req.Header.Del(name)
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
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
