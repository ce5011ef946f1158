package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
)

// replayLimit is the largest request body kept in memory so a 307/308
// redirect can send it again. Larger bodies stream once, and such a redirect
// is handed back to the client instead of being followed.
const replayLimit = 64 << 10

// viaToken marks requests the proxy sends. Seeing it on an incoming request
// means the request came through a corsbridge already: a loop.
const viaToken = "corsbridge"

var errResponseTooLarge = errors.New("upstream response larger than the configured limit")

// newTransport builds the proxy's own transport. Proxy is nil on purpose:
// HTTP_PROXY from the environment must never reroute (and so bypass) the
// SSRF guard, which sits in the dialer's Control hook and sees every address
// actually dialled, after DNS, on every redirect hop and reconnect.
func newTransport(d Deps) *http.Transport {
	control := d.Policy.Control
	if outer := d.DialControl; outer != nil {
		control = func(network, address string, c syscall.RawConn) error {
			if err := d.Policy.Control(network, address, c); err != nil {
				return err
			}
			return outer(network, address, c)
		}
	}
	dialer := &net.Dialer{
		Timeout:   min(d.Config.UpstreamTimeout, 10*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   control,
	}
	dial := dialer.DialContext
	if d.LookupHost != nil {
		dial = resolvingDialer(dialer, d.LookupHost)
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  d.Config.UpstreamTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true, // relay bodies as sent; never inflate (gzip bombs stay compressed)
		MaxResponseHeaderBytes: 256 << 10,
	}
}

// resolvingDialer resolves names with an injected resolver and dials each
// address in turn. The Control hook still checks every address dialled.
func resolvingDialer(d *net.Dialer, lookup func(ctx context.Context, host string) ([]string, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return d.DialContext(ctx, network, addr)
		}
		ips, err := lookup(ctx, host)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		var firstErr error
		for _, ip := range ips {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = &net.OpError{Op: "dial", Net: network, Err: errors.New("no addresses")}
		}
		return nil, firstErr
	}
}

// checkRedirect is http.Client's CheckRedirect for the hops the proxy
// follows server-side, so the page sees the final response; http.Client
// already turns 301/302/303 into GET and replays bodies for 307/308 when
// GetBody is set.
func (s *Server) checkRedirect(next *http.Request, via []*http.Request) error {
	if len(via) > s.cfg.MaxRedirects {
		return http.ErrUseLastResponse
	}
	// Every hop passes the same policy as the first request.
	if err := s.policy.CheckTarget(next.URL); err != nil {
		return err
	}
	if err := s.checkAccessHop(next); err != nil {
		return err
	}
	// http.Client would send the previous hop's full URL as Referer,
	// leaking the upstream's query strings to the next host.
	if ref := via[0].Header.Get("Referer"); ref != "" {
		next.Header.Set("Referer", ref)
	} else {
		next.Header.Del("Referer")
	}
	if !sameOrigin(next.URL, via[0].URL) {
		// Credentials were meant for the origin the page named.
		for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"} {
			next.Header.Del(name)
		}
	}
	return nil
}

// redirectTransport is ReverseProxy's transport. It sends the request with
// the proxy's own transport and, only when the answer is a redirect that
// http.Client would follow, hands that answer to an http.Client, which
// follows it exactly as if it had sent the request itself (method
// rewriting, body replay, headers for the next hop, checkRedirect on every
// hop). Nearly every response is not a redirect and skips the client's
// bookkeeping, such as its copy of the request headers.
type redirectTransport struct {
	transport     http.RoundTripper
	checkRedirect func(next *http.Request, via []*http.Request) error
}

func (t *redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.WithContext(withoutTrace{r.Context()})
	res, err := t.transport.RoundTrip(r)
	if err != nil || !followable(res) {
		return res, err
	}
	client := &http.Client{
		Transport:     &answeredFirst{res: res, next: t.transport},
		CheckRedirect: t.checkRedirect,
	}
	return client.Do(r)
}

// followable: the statuses http.Client follows, with somewhere to go.
// Whether it does (the hop limit, a body it cannot replay) is its call.
func followable(res *http.Response) bool {
	switch res.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return res.Header.Get("Location") != ""
	}
	return false
}

// answeredFirst is the transport of an http.Client taking over a redirect:
// its first round trip returns the response already received for the
// request; the hops after it go through next. The client calls it from one
// goroutine, one hop after another.
type answeredFirst struct {
	res  *http.Response
	next http.RoundTripper
}

func (t *answeredFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if res := t.res; res != nil {
		t.res = nil
		return res, nil
	}
	return t.next.RoundTrip(r)
}

// withoutTrace hides ReverseProxy's ClientTrace from the transport. That
// trace relays 1xx responses (103 Early Hints) to the client with the
// upstream's headers unscrubbed, and then clears every header already set on
// the response (rate-limit quota, request id). Without a trace the transport
// skips 1xx responses, as a client that does not ask for them expects.
type withoutTrace struct{ context.Context }

func (c withoutTrace) Value(key any) any {
	v := c.Context.Value(key)
	if _, isTrace := v.(*httptrace.ClientTrace); isTrace {
		return nil
	}
	return v
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// copyBufferSize is the size of ReverseProxy's copy buffers.
const copyBufferSize = 32 << 10

// bufferPool lends ReverseProxy its copy buffers. It pools pointers to
// arrays: a pointer fits in an interface without an allocation, where
// putting back a slice would allocate its header on every request.
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

func (p *bufferPool) Get() []byte { return p.pool.Get().(*[copyBufferSize]byte)[:] }

func (p *bufferPool) Put(b []byte) {
	if cap(b) < copyBufferSize {
		return // not one of ours
	}
	p.pool.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
}

func (s *Server) newReverseProxy(transport http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        s.rewrite,
		Transport:      transport,
		ModifyResponse: s.modifyResponse,
		ErrorHandler:   s.proxyError,
		BufferPool:     newBufferPool(),
		ErrorLog:       slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
}

func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	info := infoFrom(pr.In)
	out := pr.Out
	out.URL = info.target
	out.Host = "" // Host is the target's
	out.RequestURI = ""
	scrubRequestHeaders(out.Header, s.trustedIPHeader)
	out.Header.Set("Via", "1.1 "+viaToken)
	if s.cfg.ForwardClientIP {
		if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
			out.Header.Set("X-Forwarded-For", ip)
		}
	}
	if info.replay != nil {
		body := info.replay
		out.ContentLength = int64(len(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	// The watchdog in modifyResponse cancels this context when the
	// upstream's body stalls; it ends with the client's request anyway.
	ctx, cancel := context.WithCancel(out.Context())
	pr.Out = out.WithContext(ctx)
	info.cancelUpstream = cancel
	info.upstreamStart = time.Now()
}

func (s *Server) modifyResponse(res *http.Response) error {
	info := infoFrom(res.Request)
	info.upstreamDone = time.Now()
	if res.ContentLength > s.cfg.MaxResponseBody {
		return errResponseTooLarge
	}
	h := res.Header
	scrubResponseHeaders(h)
	if loc := h.Get("Location"); loc != "" && res.StatusCode >= 300 && res.StatusCode < 400 {
		h.Set("Location", s.redirectLocation(info.target, res.Request.URL, loc))
	}
	// The proxy's own headers, by their canonical keys, from one backing
	// array; each value slice is capped, so an append elsewhere copies.
	vals := make([]string, 4)
	vals[0] = targetString(info.target)
	vals[1] = vals[0]
	if res.Request.URL != info.target { // a redirect was followed
		vals[1] = targetString(res.Request.URL)
	}
	vals[2] = "nosniff"
	vals[3] = "sandbox"
	h["X-Request-Url"] = vals[0:1:1]
	h["X-Final-Url"] = vals[1:2:2]
	h["X-Content-Type-Options"] = vals[2:3:3]
	// Upstream HTML opened at the proxy's origin must not run script there.
	if csp := h["Content-Security-Policy"]; len(csp) > 0 {
		h["Content-Security-Policy"] = append(csp, vals[3])
	} else {
		h["Content-Security-Policy"] = vals[3:4:4]
	}
	s.cors.allowOrigin(h, info.origin)
	s.cors.exposeUpstream(h)
	if res.Body != nil && res.Body != http.NoBody && info.cancelUpstream != nil {
		res.Body = watchUpstream(res, s.cfg.UpstreamIdleTimeout, info.cancelUpstream, info.w)
	}
	if res.ContentLength < 0 && res.Body != nil && res.Body != http.NoBody {
		res.Body = &limitedBody{rc: res.Body, remaining: s.cfg.MaxResponseBody}
	}
	return nil
}

// redirectLocation rewrites a redirect the proxy did not follow. Within the
// origin the page asked for, the browser's next request comes back through
// the proxy (a path-absolute reference works whatever scheme and host the
// proxy is reached by). To another origin it points straight there: through
// the proxy it would look same-origin to the browser, which would then resend
// Authorization and the body to a host the page never named.
func (s *Server) redirectLocation(target, current *url.URL, location string) string {
	ref, err := url.Parse(location)
	if err != nil {
		return location
	}
	next := current.ResolveReference(ref)
	if !sameOrigin(next, target) {
		return next.String()
	}
	return "/" + next.String()
}

// limitedBody cuts a body of undeclared length at the response limit with an
// error, so ReverseProxy aborts the connection and the client sees a broken
// transfer rather than a complete-looking truncated body.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		// Probe for one more byte: exactly the limit is fine, more is not.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// proxyError maps what went wrong before a response arrived to the error
// contract. Internal detail (addresses, TLS errors) goes to the log only.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoFrom(r)
	info.upstreamErr = err
	var policyErr *allowlist.Error
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case info.body != nil && info.body.stalled.Load(), errors.Is(err, errClientStalled):
		// Checked first: the stalled read also cancels the request context.
		s.writeError(w, r, codeRequestTimeout, "the request body stopped arriving")
	case errors.As(err, &policyErr):
		s.writePolicyError(w, r, policyErr)
	case errors.As(err, new(*access.Error)):
		s.writeAccessError(w, r, err)
	case errors.As(err, &tooBig):
		s.writeError(w, r, codeBodyTooLarge, s.bodyTooLarge)
	case errors.Is(err, errResponseTooLarge):
		s.writeError(w, r, codeResponseTooLarge, s.responseTooLarge)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
		info.clientGone = true
		w.WriteHeader(statusClientClosed)
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		s.writeError(w, r, codeUpstreamTimeout, "the upstream did not answer in time")
	default:
		s.writeError(w, r, codeUpstreamUnreachable, "the upstream could not be reached")
	}
}

// statusClientClosed is nginx's convention for "client closed the request",
// used only in logs and metrics.
const statusClientClosed = 499

func (s *Server) writePolicyError(w http.ResponseWriter, r *http.Request, err *allowlist.Error) {
	code := codeTargetForbidden
	switch err.Kind {
	case allowlist.KindInvalid:
		code = codeInvalidTarget
	case allowlist.KindOrigin:
		code = codeOriginForbidden
	}
	s.noteRefusal(r, code, err)
	s.writeError(w, r, code, err.Reason)
}
