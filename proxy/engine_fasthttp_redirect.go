//go:build corsbridge_fasthttp

package proxy

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/valyala/fasthttp"
)

// do sends req and follows redirects in the order http.Client and
// checkRedirect do: the Location must parse, then the hop limit, where the
// secrets may go, Secrets.Apply, Deps.CheckHop, credentials left behind when
// a hop leaves the origin. 301/302/303 become GET (HEAD stays); 307/308 keep
// method and body when the body can be replayed. The Referer is never
// rewritten: each hop sees the page's own. It returns the final URL.
func (e *fastEngine) do(ex *exchange, req *fasthttp.Request, res *fasthttp.Response, h http.Header, streamed bool) (*url.URL, error) {
	current := ex.sent
	for hops := 0; ; hops++ {
		res.Header.SetNoDefaultContentType(true) // relay a missing Content-Type as missing
		if err := e.client.Do(req, res); err != nil {
			return nil, err
		}
		code, loc := res.StatusCode(), res.Header.Peek("Location")
		switch code {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			if streamed {
				return current, nil // the body went once and cannot be sent again
			}
		default:
			return current, nil
		}
		if len(loc) == 0 {
			return current, nil
		}
		next, err := current.Parse(string(loc))
		if err != nil {
			_ = res.CloseBodyStream()
			return nil, fmt.Errorf("%w: Location does not parse: %w", ErrBadRedirect, err)
		}
		if hops >= e.f.cfg.MaxRedirects || ex.req.Secrets != nil && !ex.req.Secrets.Carries(next) {
			return current, nil
		}
		_ = res.CloseBodyStream()
		if next, err = e.nextHop(ex, req, h, next, code); err != nil {
			return nil, err
		}
		if code <= http.StatusSeeOther {
			streamed = false
		}
		current = next
	}
}

// nextHop rewrites req for the redirect to next.
func (e *fastEngine) nextHop(ex *exchange, req *fasthttp.Request, h http.Header, next *url.URL, code int) (*url.URL, error) {
	previous := h.Clone()
	hop := &http.Request{Method: string(req.Header.Method()), URL: next, Header: h}
	if ex.req.Secrets != nil {
		ex.req.Secrets.Apply(hop)
	}
	if e.f.checkHop != nil {
		if err := e.f.checkHop(ex.req.Grant, hop.URL); err != nil {
			return nil, &refused{err}
		}
	}
	if !sameOrigin(hop.URL, ex.sent) {
		// Credentials were meant for the origin the page named.
		for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"} {
			h.Del(name)
		}
	}
	if code <= http.StatusSeeOther && hop.Method != http.MethodGet && hop.Method != http.MethodHead {
		req.Header.SetMethod(http.MethodGet)
		req.ResetBody()
		req.Header.Del("Content-Length")
	}
	setHeaders(req, h, previous)
	req.SetRequestURI(hop.URL.String())
	return hop.URL, nil
}
