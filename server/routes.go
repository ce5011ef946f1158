package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/corsbridge/corsbridge/web"
)

// routes is the proxy's whole URL surface. Everything not named here is a
// proxy request: /<target-url>.
func (s *Server) routes() http.Handler {
	common := []func(http.Handler) http.Handler{s.logRequests, s.recoverPanics, s.refuseMethods}
	r := chi.NewRouter()
	// Methods chi does not know (PURGE, lower-case trace) and wrong methods
	// on the proxy's own routes still get the error contract.
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, codeMethodNotAllowed, r.Method+" is not supported here")
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, codeNotFound, errNotATarget.message)
	})
	r.Use(common...)

	r.Method(http.MethodGet, "/healthz", s.handleHealthz())
	r.Method(http.MethodGet, "/readyz", s.handleReadyz())
	if s.cfg.ServeMetrics {
		r.Method(http.MethodGet, "/metrics", handleMetrics(s.registry))
	}
	if s.site != nil {
		r.Handle(web.AssetPrefix+"*", s.site.Assets())
	}

	proxy := chi.Chain(
		s.countInFlight,
		s.refuseLoops,
		s.answerPreflights,
		s.resolveTarget,
		s.requireHeaders,
		s.checkOrigin,
		s.checkTarget,
		s.checkAccess,
		s.rateLimit,
		s.limitBody,
	).Handler(s.proxy)

	r.Handle("/", s.handleRoot(proxy))
	r.Handle("/*", proxy)
	return &router{chi: r, proxy: chi.Chain(common...).Handler(proxy)}
}

// router sends proxy requests (nearly every request the server gets)
// straight to the same middleware and proxy chain chi would pick for "/*",
// skipping chi's routing context and the request copy it makes. Everything
// else goes to chi: the fixed routes, "/", and methods chi does not route,
// which it answers in the error contract.
type router struct {
	chi   http.Handler
	proxy http.Handler
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isProxyRoute(r) {
		rt.proxy.ServeHTTP(w, r)
		return
	}
	rt.chi.ServeHTTP(w, r)
}

// isProxyRoute reports whether chi would route r to "/*" for certain: a
// method chi knows, and a path chi matches by (the escaped one when there is
// one) that is not "/" and not one of the fixed routes, whether or not they
// are mounted. Anything in doubt is left to chi.
func isProxyRoute(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		return false
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if len(path) < 2 || path[0] != '/' {
		return false
	}
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return !strings.HasPrefix(path, web.AssetPrefix)
}

// handleRoot serves "/" itself unless it carries ?url=, the query form of a
// proxy request.
func (s *Server) handleRoot(proxy http.Handler) http.Handler {
	var landing http.Handler
	if s.site != nil {
		landing = s.site.Landing()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("url") {
			proxy.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.writeError(w, r, codeNotFound, errNotATarget.message)
			return
		}
		s.cors.allowOrigin(w.Header(), infoFrom(r).origin)
		if landing != nil {
			landing.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("corsbridge: request /<url> to proxy it\n"))
	})
}
