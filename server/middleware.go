package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
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

// refuseLoops: every request the proxy sends carries "Via: 1.1 corsbridge";
// one arriving with it already went through a corsbridge, perhaps this one
// reached through a public name, and would otherwise recurse.
func (s *Server) refuseLoops(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, via := range r.Header.Values("Via") {
			if containsToken(via, viaToken) {
				s.writeError(w, r, codeLoopDetected, "this request already passed through corsbridge")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// containsToken reports whether a Via value names the pseudonym: entries
// are "1.1 name" separated by commas.
func containsToken(via, name string) bool {
	for entry := range strings.SplitSeq(via, ",") {
		fields := strings.Fields(entry)
		if len(fields) >= 2 && strings.EqualFold(fields[1], name) {
			return true
		}
	}
	return false
}

// answerPreflights answers every CORS preflight itself, for any origin: a
// preflight has no side effects, and letting it pass means the real request
// reaches the checks below and gets an error the page can read, instead of
// an opaque network failure.
func (s *Server) answerPreflights(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPreflight(r) {
			s.cors.preflight(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) resolveTarget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, err := parseTarget(r.RequestURI)
		if err != nil {
			var te *targetError
			if errors.As(err, &te) {
				s.writeError(w, r, te.code, te.message)
			} else {
				s.writeError(w, r, codeInvalidTarget, "invalid target")
			}
			return
		}
		infoFrom(r).target = target
		next.ServeHTTP(w, r)
	})
}

// requireHeaders keeps the proxy from being an open proxy for browsing: a
// browser's cross-origin fetch always sends Origin, a navigation does not.
// Navigations get a page that explains how to use the proxy.
func (s *Server) requireHeaders(next http.Handler) http.Handler {
	if len(s.requireHeader) == 0 {
		return next
	}
	message := "requests must carry one of these headers: " + strings.Join(s.requireHeader, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range s.requireHeader {
			if _, ok := r.Header[name]; ok {
				next.ServeHTTP(w, r)
				return
			}
		}
		if isNavigation(r) && s.site != nil {
			setRequestError(r, codeHeaderRequired)
			s.cors.allowOrigin(w.Header(), infoFrom(r).origin)
			w.Header().Set(HeaderError, string(codeHeaderRequired))
			s.site.HeaderRequired(w, r, strings.TrimPrefix(r.RequestURI, "/"))
			return
		}
		s.writeError(w, r, codeHeaderRequired, message)
	})
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

func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.policy.CheckOrigin(infoFrom(r).origin); err != nil {
			s.writeAllowlistError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkTarget applies the target policy before any DNS, for a clear early
// error. The dialer's Control hook enforces it again on every address.
func (s *Server) checkTarget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkTargetURL(infoFrom(r).target); err != nil {
			s.writeAllowlistError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkTargetURL runs the policy's early checks, which canonicalise the host
// in place. A target kept in Opaque form (see setRawPath) is checked through
// a copy in ordinary form, and its Opaque follows the canonical host.
func (s *Server) checkTargetURL(u *url.URL) error {
	if u.Opaque == "" {
		return s.policy.CheckTarget(u)
	}
	plain := *u
	plain.Opaque = ""
	if err := s.policy.CheckTarget(&plain); err != nil {
		return err
	}
	if rest, ok := strings.CutPrefix(u.Opaque, "//"+u.Host); ok {
		u.Opaque = "//" + plain.Host + rest
	}
	u.Host = plain.Host
	return nil
}

func (s *Server) writeAllowlistError(w http.ResponseWriter, r *http.Request, err error) {
	var policyErr *allowlist.Error
	if errors.As(err, &policyErr) {
		s.writePolicyError(w, r, policyErr)
		return
	}
	s.writeError(w, r, codeTargetForbidden, "refused by policy")
}

// limitBody enforces the request body limit and keeps small bodies in memory
// so a 307/308 redirect can replay them.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxRequestBody {
			s.writeError(w, r, codeBodyTooLarge, s.bodyTooLarge)
			return
		}
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := &clientBody{
			rc:   http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBody),
			ctl:  http.NewResponseController(w),
			idle: s.cfg.BodyIdleTimeout,
		}
		if s.cfg.BodyTimeout > 0 {
			body.deadline = time.Now().Add(s.cfg.BodyTimeout)
		}
		infoFrom(r).body = body
		r.Body = body
		if r.ContentLength > replayLimit {
			next.ServeHTTP(w, r)
			return
		}
		head, err := io.ReadAll(io.LimitReader(r.Body, replayLimit+1))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			s.writeError(w, r, codeBodyTooLarge, s.bodyTooLarge)
			return
		case errors.Is(err, errClientStalled):
			s.writeError(w, r, codeRequestTimeout, "the request body stopped arriving")
			return
		case err != nil:
			// The client stopped sending; nobody reads an answer.
			infoFrom(r).clientGone = true
			w.WriteHeader(statusClientClosed)
			return
		case len(head) <= replayLimit:
			infoFrom(r).replay = head
			r.ContentLength = int64(len(head))
			r.Body = io.NopCloser(bytes.NewReader(head))
		default:
			r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

type readCloser struct {
	io.Reader
	io.Closer
}
