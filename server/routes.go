package server

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/proxy"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/web"
)

// routes is the proxy's whole URL surface. Everything not named here is a
// proxy request: /<target-url>, or /?url=<target-url>.
func (s *Server) routes() http.Handler {
	// Middleware cuts across every route: the request id and log line,
	// panics, CORS on everything the proxy writes itself, methods and loops
	// no route may serve.
	// chi routes every request, proxy requests included: a shortcut past it
	// for "/*" saved 6 allocations but no throughput in make bench (issue
	// 12's bar is 5 % req/s; docs/performance.md, "The chi shortcut").
	r := chi.NewRouter()
	r.Use(s.logRequests, s.recoverPanics, s.allowCORS, s.refuseMethods, s.refuseLoops)
	// Methods chi does not know (PURGE, lower-case trace) and wrong methods
	// on the proxy's own routes still get the error contract.
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, codeMethodNotAllowed, r.Method+" is not supported here")
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, codeNotFound, errNotATarget.message)
	})

	r.Method(http.MethodGet, "/healthz", s.handleHealthz())
	r.Method(http.MethodGet, "/readyz", s.handleReadyz())
	r.Method(http.MethodGet, UsagePath, s.handleUsage())
	// A page that sends its key in X-Corsbridge-Key asks first.
	r.Method(http.MethodOptions, UsagePath, s.handlePreflight())
	if s.cfg.ServeMetrics {
		r.Method(http.MethodGet, "/metrics", handleMetrics(s.registry))
	}
	if s.site != nil {
		r.Handle(web.AssetPrefix+"*", s.site.Assets(s.webError))
	}
	proxyRequest := http.HandlerFunc(s.serveProxy)
	r.Handle("/", s.handleRoot(proxyRequest))
	r.Handle("/*", proxyRequest)
	return r
}

// serveProxy is the proxy handler: every step of a proxied request, in
// order. Each step is one call into the package that owns it and returns a
// value or a refusal; refuse turns any refusal into the error contract, the
// metrics and the log line.
func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request) {
	rec := recordFrom(r)
	if s.metrics != nil {
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
	}
	// 0. Preflights are answered here, for any origin: they have no side
	// effects, and the real request then meets the checks below and gets an
	// error the page can read instead of an opaque network failure.
	if isPreflight(r) {
		s.cors.preflight(w, r)
		return
	}
	// 1. What the page asked for: the target URL, from the raw request line.
	asked, err := parseTarget(r.RequestURI)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	rec.targetHost = asked.Host
	// 2. Browsers only: a navigation gets a page explaining the proxy.
	if err := s.requireHeader(r); err != nil {
		s.refuseHeaderless(w, r, err)
		return
	}
	// 3. Origin and target policy: the canonical target, before any DNS.
	target, err := s.admit(rec.origin, r.Referer(), asked)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	rec.targetHost = target.Host
	// 4. Access: keys, signed tokens and run-time blocks; the grant, and the
	// target without the corsbridge_key parameter.
	grant, target, err := s.authorize(r, rec.origin, target, rec.start)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	// 5. Limits: counted only for requests every check above admitted; the
	// places in flight are held until the response has ended.
	limits := s.takeLimits(w, r, rec, grant)
	defer limits.Release()
	if !limits.Allowed() {
		s.refuse(w, r, limitRefusal{limits})
		return
	}
	// 6. Cache lookup: a stored answer, for a request admitted like any
	// other (and counted against the limits above); or the store step the
	// forward carries.
	targetURL := proxy.TargetString(target) // the cache's key and X-Request-URL, rendered once
	tx := s.lookup(r, targetURL, grant)
	if tx != nil {
		defer tx.Done()
		defer func() { rec.cache = tx.Outcome() }()
		if resp := tx.Response(); resp != nil {
			s.serveCached(w, resp)
			return
		}
	}
	fwd := proxy.Request{Target: target, TargetString: targetURL, Grant: grant, Cache: cacheStep(tx)}
	// 7. Secrets: the upstream credentials this grant may send to this
	// target, if any; the forwarder sets them and keeps them there.
	if secrets := s.access.Secrets(grant, target); secrets != nil {
		fwd.Secrets = secrets
		rec.secrets = secrets.Names()
	}
	// 8. Forward: the upstream's answer, scrubbed, relayed as it streams,
	// and kept by the cache when it may be.
	rec.forwarding = true
	rec.upstream = s.forwarder.Forward(w, r, fwd)
}

// takeLimits is step 5. It sets the X-RateLimit-*, RateLimit-Policy and
// RateLimit headers on every answer from here on, refusal or relayed
// response. An admitted request of a key with a monthly bytes quota has its
// response's bytes counted when it ends (see countBytes).
func (s *Server) takeLimits(w http.ResponseWriter, r *http.Request, rec *record, grant *access.Grant) ratelimit.Result {
	if s.limiter == nil {
		return ratelimit.Result{}
	}
	req := ratelimit.Request{Client: ratelimit.ClientIP(r, s.cfg.TrustedProxyHeader), Origin: rec.origin}
	if grant != nil {
		req.Key, req.KeyLimit, req.KeyQuota = grant.Name, grant.Limit, grant.Quota
	}
	res := s.limiter.Take(r.Context(), req, time.Now())
	res.SetHeaders(w.Header())
	if res.Allowed() && grant != nil && grant.Quota.MonthlyBytes > 0 {
		rec.bytesQuota = grant.Quota
	}
	return res
}

// handlePreflight answers the preflights of the proxy's own routes that a
// page reads with a custom header; any other OPTIONS is not served there.
func (s *Server) handlePreflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPreflight(r) {
			s.writeError(w, r, codeMethodNotAllowed, r.Method+" is not supported here")
			return
		}
		s.cors.preflight(w, r)
	})
}

// handleRoot serves "/" itself unless it carries ?url=, the query form of a
// proxy request.
func (s *Server) handleRoot(proxyRequest http.Handler) http.Handler {
	var landing http.Handler
	if s.site != nil {
		landing = s.site.Landing(s.webError)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("url") {
			proxyRequest.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.writeError(w, r, codeNotFound, errNotATarget.message)
			return
		}
		if landing != nil {
			landing.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("corsbridge: request /<url> to proxy it\n"))
	})
}

// admit is step 3: the origin rules (a null origin's deny rules judged by its
// Referer too), then the target rules, which return the canonical target (IDN
// to punycode, legacy IPv4 spellings to dotted quads) as a new URL. The
// dialer's Control hook enforces the address rules again on every address
// actually dialled.
func (s *Server) admit(origin, referer string, asked *url.URL) (*url.URL, error) {
	if err := s.policy.CheckOriginFrom(origin, referer); err != nil {
		return nil, err
	}
	target := *asked
	if target.Opaque == "" {
		if err := s.policy.CheckTarget(&target); err != nil {
			return nil, err
		}
		return &target, nil
	}
	// A target whose path is kept in Opaque (see setRawPath) is checked
	// through a copy in ordinary form, and its Opaque follows the canonical
	// host.
	plain := target
	plain.Opaque = ""
	if err := s.policy.CheckTarget(&plain); err != nil {
		return nil, err
	}
	if rest, ok := strings.CutPrefix(target.Opaque, "//"+target.Host); ok {
		target.Opaque = "//" + plain.Host + rest
	}
	target.Host = plain.Host
	return &target, nil
}
