package server

import (
	"net/http"
	"strings"

	"github.com/corsbridge/corsbridge/proxy"
)

// recoverPanics turns a handler bug into a 500 in the error contract instead
// of a dropped connection. http.ErrAbortHandler is how ReverseProxy aborts a
// response that failed mid-body: it must reach net/http untouched.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger.Error("panic serving request", "panic", p, "method", r.Method)
			s.writeError(w, r, codeInternal, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// allowCORS puts Access-Control-Allow-Origin on every response, whoever
// writes it: the proxy's own pages and errors, and relayed upstream
// responses, whose own CORS headers the forwarder scrubs. With an origin
// allowlist even a refused origin is named, so the page can read the 403
// that tells it why.
func (s *Server) allowCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.cors.allowOrigin(w.Header(), recordFrom(r).origin)
		next.ServeHTTP(w, r)
	})
}

// refuseMethods: CONNECT would make the proxy a tunnel, TRACE/TRACK echo
// request headers back (cookies, auth) to script, and protocol upgrades
// (WebSocket) cannot carry CORS headers.
func (s *Server) refuseMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodConnect, http.MethodTrace, "TRACK":
			s.writeError(w, r, codeMethodNotAllowed, r.Method+" is not supported")
			return
		}
		if r.Header.Get("Upgrade") != "" {
			s.writeError(w, r, codeMethodNotAllowed, "protocol upgrades (WebSocket) are not supported")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseLoops: a request that already went through a corsbridge, perhaps
// this one reached through a public name, would otherwise recurse.
func (s *Server) refuseLoops(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if proxy.IsLoop(r.Header) {
			s.writeError(w, r, codeLoopDetected, "this request already passed through corsbridge")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errHeaderRequired: the request carries none of the required headers.
type errHeaderRequired struct{ message string }

func (e *errHeaderRequired) Error() string { return e.message }

// requireHeader keeps the proxy from being an open proxy for browsing: a
// browser's cross-origin fetch always sends Origin, a navigation does not.
func (s *Server) requireHeader(r *http.Request) error {
	if len(s.requireHeaders) == 0 {
		return nil
	}
	for _, name := range s.requireHeaders {
		if _, ok := r.Header[name]; ok {
			return nil
		}
	}
	return s.headerRequired
}

// refuseHeaderless answers a request without the required headers:
// navigations get a page that explains how to use the proxy, everything else
// the error contract.
func (s *Server) refuseHeaderless(w http.ResponseWriter, r *http.Request, err error) {
	if !isNavigation(r) || s.site == nil {
		s.refuse(w, r, err)
		return
	}
	recordFrom(r).code = codeHeaderRequired
	w.Header().Set(HeaderError, string(codeHeaderRequired))
	s.site.HeaderRequired(w, r, strings.TrimPrefix(r.RequestURI, "/"), s.webError)
}

// isNavigation: the user typed or clicked the proxied URL in a browser.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
