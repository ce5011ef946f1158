// Package proxy forwards an admitted request to its upstream and relays the
// answer: the transport with the SSRF dialer, the redirects it follows, the
// header scrubbing tables, the timeouts and watchdogs, and the body limits.
// It decides nothing about who may use the proxy; the server admits a
// request, then hands it here with the checks every redirect hop must pass.
package proxy

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// Deps is what a Forwarder needs besides its Config.
type Deps struct {
	Config Config
	// Control is the SSRF boundary: the address policy's dialer hook
	// (allowlist.Policy.Control). Required.
	Control Control
	// OuterControl, if set, runs after Control on every dial. Tests use it as
	// an outer guard that refuses any non-loopback address, so a broken policy
	// fails a test without a packet leaving.
	OuterControl Control
	// LookupHost replaces DNS for upstream names (tests).
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// CheckHop judges every redirect hop before it is followed: the target
	// policy, the run-time blocks and the scope of the request's grant
	// (Request.Grant). An error stops the request with that error (a
	// *Failure of KindRefused), or of KindBadRedirect when it wraps
	// ErrBadRedirect. Nil follows every hop the transport can.
	CheckHop func(grant any, next *url.URL) error
	// RootCAs are the roots trusted for HTTPS upstreams (LoadRoots); nil
	// trusts the system's.
	RootCAs *x509.CertPool
	// DecorateResponse adds the server's headers to every upstream response
	// after scrubbing (the CORS expose list); nil adds none.
	DecorateResponse func(h http.Header)
	// Fail writes the answer for a request that failed before a response
	// could be relayed, given a *Failure. Required.
	Fail   func(w http.ResponseWriter, r *http.Request, err *Failure)
	Logger *slog.Logger
}

// Forwarder sends admitted requests upstream. It is safe for concurrent use.
type Forwarder struct {
	cfg       Config
	transport *http.Transport
	rp        *httputil.ReverseProxy
	decorate  func(h http.Header)
	checkHop  func(grant any, next *url.URL) error
	fail      func(w http.ResponseWriter, r *http.Request, err *Failure)
}

// New builds a Forwarder with its own transport.
func New(d Deps) (*Forwarder, error) {
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Control == nil || d.Fail == nil {
		return nil, errors.New("proxy: Control and Fail are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Forwarder{cfg: d.Config, decorate: d.DecorateResponse, checkHop: d.CheckHop, fail: d.Fail}
	f.transport = newTransport(d)
	f.rp = &httputil.ReverseProxy{
		Rewrite:        f.rewrite,
		Transport:      &redirectTransport{transport: f.transport, checkRedirect: f.checkRedirect},
		ModifyResponse: f.modifyResponse,
		ErrorHandler:   f.errorHandler,
		BufferPool:     newBufferPool(),
		ErrorLog:       slog.NewLogLogger(d.Logger.Handler(), slog.LevelDebug),
	}
	return f, nil
}

// Close releases idle upstream connections.
func (f *Forwarder) Close() { f.transport.CloseIdleConnections() }

// Request is one admitted request's forwarding instructions.
type Request struct {
	// Target is the canonical upstream URL; Forward never changes it.
	Target *url.URL
	// TargetString is TargetString(Target) when the caller has it already
	// (for the cache's key); "" renders it here, for X-Request-URL.
	TargetString string
	// Grant is handed back to Deps.CheckHop with every redirect hop: the
	// request's access grant, opaque to the forwarder (a pointer, so
	// passing it costs nothing).
	Grant any
	// Secrets, when set, are sent with the request and kept where they
	// belong (see Secrets); nil for most requests.
	Secrets Secrets
	// Cache, when set, is the cache's store step around this forward.
	Cache CacheStep
}

// Outcome is what the request log needs to know of a forwarded request.
type Outcome struct {
	UpstreamStart, UpstreamDone time.Time // zero when the request never went out
	Err                         error     // internal detail, for operators only
	ClientGone                  bool
}

// exchange is one request's state across ReverseProxy's hooks, which only
// share the request's context. It is that context too, so a request costs
// one allocation for both.
type exchange struct {
	context.Context

	req     Request
	sent    *url.URL // the first request's URL: Target, or a copy carrying a secret
	w       http.ResponseWriter
	body    *clientBody
	replay  []byte
	cancel  context.CancelFunc
	outcome Outcome
	relay   relayWriter       // what ReverseProxy writes to
	res     *http.Response    // the upstream's response, once it arrived
	watch   *upstreamWatchdog // its body's watchdog
}

type exchangeKey struct{}

func (ex *exchange) Value(key any) any {
	if key == (exchangeKey{}) {
		return ex
	}
	return ex.Context.Value(key)
}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// Forward sends r to req.Target and relays the answer to w, or writes the
// failure through Deps.Fail. It returns when the exchange is over.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, req Request) Outcome {
	ex := &exchange{Context: r.Context(), req: req, w: w}
	r = r.WithContext(ex)
	if fail := f.prepareBody(w, r, ex); fail != nil {
		ex.note(fail)
		if fail.Kind != KindClientGone {
			f.fail(w, r, fail)
		} else {
			w.WriteHeader(StatusClientClosed)
		}
		return ex.outcome
	}
	f.relay(ex, r)
	return ex.outcome
}

func (f *Forwarder) rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeFrom(pr.In.Context())
	out := pr.Out
	out.URL = ex.req.Target // shared, never written: compared by pointer in modifyResponse
	out.Host = ""           // Host is the target's
	out.RequestURI = ""
	scrubRequestHeaders(out.Header, f.cfg.TrustedProxyHeader)
	if ex.req.Cache != nil {
		ex.req.Cache.Outbound(out.Header)
	}
	ex.sent = out.URL
	if ex.req.Secrets != nil {
		// Set after scrubbing, so no rule removes them, and on a copy of
		// the target, which stays as the client sent it.
		sent := *ex.req.Target
		out.URL, ex.sent = &sent, &sent
		ex.req.Secrets.Apply(out)
	}
	out.Header.Set("Via", "1.1 "+viaToken)
	if f.cfg.ForwardClientIP {
		if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
			out.Header.Set("X-Forwarded-For", ip)
		}
	}
	if ex.replay != nil {
		out.ContentLength = int64(len(ex.replay))
		out.GetBody = replayBody(ex.replay)
	}
	// The watchdog in modifyResponse cancels this context when the
	// upstream's body stalls; it ends with the client's request anyway.
	ctx, cancel := context.WithCancel(out.Context())
	pr.Out = out.WithContext(ctx)
	ex.cancel = cancel
	ex.outcome.UpstreamStart = time.Now()
}

func (f *Forwarder) modifyResponse(res *http.Response) error {
	ex := exchangeFrom(res.Request.Context())
	ex.outcome.UpstreamDone = time.Now()
	if res.ContentLength > f.cfg.MaxResponseBody {
		return errResponseTooLarge
	}
	if ex.req.Cache != nil {
		ex.req.Cache.Decide(res, res.Request.URL != ex.sent)
	}
	h := res.Header
	scrubResponseHeaders(h)
	if ex.req.Secrets != nil {
		ex.req.Secrets.RedactHeader(h)
	}
	target := ex.req.Target
	if loc := h.Get("Location"); loc != "" && res.StatusCode >= 300 && res.StatusCode < 400 {
		loc = redirectLocation(target, res.Request.URL, loc)
		if ex.req.Secrets != nil {
			// Resolved against the URL sent, which carried the secret.
			loc = ex.req.Secrets.RedactURL(loc)
		}
		h.Set("Location", loc)
	}
	// The proxy's own headers, by their canonical keys, from one backing
	// array; each value slice is capped, so an append elsewhere copies.
	vals := make([]string, 4)
	if vals[0] = ex.req.TargetString; vals[0] == "" {
		vals[0] = TargetString(target)
	}
	vals[1] = vals[0]
	if res.Request.URL != ex.sent { // a redirect was followed
		vals[1] = TargetString(res.Request.URL)
		if ex.req.Secrets != nil {
			vals[1] = ex.req.Secrets.RedactURL(vals[1])
		}
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
	if ex.req.Cache != nil {
		// Before decorate, so the expose list names Cache-Status and Age.
		ex.req.Cache.Store(res)
		h = res.Header
	}
	if f.decorate != nil {
		f.decorate(h)
	}
	ex.res = res
	if res.Body != nil && res.Body != http.NoBody && ex.cancel != nil {
		ex.watch = watchUpstream(res, f.cfg.UpstreamIdleTimeout, ex.cancel, ex.w)
		ex.watch.secrets = ex.req.Secrets
		res.Body = ex.watch
	}
	if res.ContentLength < 0 && res.Body != nil && res.Body != http.NoBody {
		res.Body = &limitedBody{rc: res.Body, remaining: f.cfg.MaxResponseBody}
	}
	return nil
}

// errorHandler is ReverseProxy's: what went wrong before a response
// arrived, classified, and written by the server's Fail.
func (f *Forwarder) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	fail := classify(err, ex.body != nil && ex.body.stalled.Load(), r.Context().Err() != nil)
	if ex.body != nil && ex.body.malformed.Load() {
		// The transport stopped on the client's body, not the upstream.
		fail.Kind = KindBadRequestBody
	}
	ex.note(fail)
	if fail.Kind == KindClientGone {
		// Nobody reads an answer.
		w.WriteHeader(StatusClientClosed)
		return
	}
	if ex.req.Cache != nil && (fail.Kind == KindUpstreamTimeout || fail.Kind == KindUpstreamUnreachable) {
		if res := ex.req.Cache.StaleOnError(); res != nil {
			f.relayStored(w, res)
			return
		}
	}
	f.fail(w, r, fail)
}

func (ex *exchange) note(fail *Failure) {
	ex.outcome.Err = redactURLs(fail.Err)
	if ex.req.Secrets != nil && fail.Err != nil {
		// A secret's value may sit in the error text outside a URL too
		// (a hop's URL as the upstream wrote it, a protocol error quoting
		// a header).
		ex.outcome.Err = &redactedError{err: fail.Err, msg: ex.req.Secrets.Redact(ex.outcome.Err.Error())}
	}
	ex.outcome.ClientGone = fail.Kind == KindClientGone
}

// TargetString renders u for X-Request-URL, X-Final-URL and redirects,
// keeping a path held in Opaque byte for byte.
func TargetString(u *url.URL) string {
	if u.Opaque == "" || len(u.Opaque) >= 2 && u.Opaque[:2] == "//" {
		return u.String()
	}
	s := u.Scheme + "://" + u.Host + u.Opaque
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}
