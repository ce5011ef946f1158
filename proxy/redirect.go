package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
)

// ErrBadRedirect marks a redirect the upstream sent that cannot be
// followed: its Location does not parse, or names something that cannot be a
// target at all (no host, another scheme). The fault is the upstream's, not
// the client's. Deps.CheckHop wraps its error in it to say so.
var ErrBadRedirect = errors.New("the upstream's redirect cannot be followed")

// checkLocation refuses a redirect whose Location does not parse, before
// http.Client does it with an error that only its text tells apart.
func checkLocation(r *http.Request, res *http.Response) error {
	if !followable(res) {
		return nil
	}
	if _, err := r.URL.Parse(res.Header.Get("Location")); err != nil {
		res.Body.Close()
		return fmt.Errorf("%w: Location does not parse: %w", ErrBadRedirect, err)
	}
	return nil
}

// checkRedirect is http.Client's CheckRedirect for the hops the proxy
// follows server-side, so the page sees the final response; http.Client
// already turns 301/302/303 into GET and replays bodies for 307/308 when
// GetBody is set.
func (f *Forwarder) checkRedirect(next *http.Request, via []*http.Request) error {
	if len(via) > f.cfg.MaxRedirects {
		return http.ErrUseLastResponse
	}
	ex := exchangeFrom(next.Context())
	if ex != nil && ex.req.Secrets != nil {
		// A secret goes only where its pattern says: a hop leaving it is
		// handed back to the client (Location redacted) instead of being
		// sent anything that carries the secret.
		if !ex.req.Secrets.Carries(next.URL) {
			return http.ErrUseLastResponse
		}
		ex.req.Secrets.Apply(next)
	}
	// Every hop passes the same checks as the first request: the target
	// policy, the request's key scope and the run-time blocks.
	if ex != nil && f.checkHop != nil {
		if err := f.checkHop(ex.req.Grant, next.URL); err != nil {
			return &refused{err}
		}
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
	res := t.res
	if res != nil {
		t.res = nil
	} else {
		var err error
		if res, err = t.next.RoundTrip(r); err != nil {
			return nil, err
		}
	}
	if err := checkLocation(r, res); err != nil {
		return nil, err
	}
	return res, nil
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

// redirectLocation rewrites a redirect the proxy did not follow. Within the
// origin the page asked for, the browser's next request comes back through
// the proxy (a path-absolute reference works whatever scheme and host the
// proxy is reached by). To another origin it points straight there: through
// the proxy it would look same-origin to the browser, which would then resend
// Authorization and the body to a host the page never named.
func redirectLocation(target, current *url.URL, location string) string {
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
