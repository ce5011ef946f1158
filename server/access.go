package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// HeaderKey carries an access key or a signed token. headers.go drops it
// from every forwarded request.
const HeaderKey = "X-Corsbridge-Key"

// keyParam is the query parameter form of HeaderKey, for pages that cannot
// set headers (an <img>, an EventSource) or that would rather not pay for a
// preflight. It is removed from the target's query before forwarding.
const keyParam = "corsbridge_key"

// checkAccess applies the run-time blocks and the access keys and tokens
// (package access). It runs after the origin and target checks, so the
// target it judges is canonical, and before the rate limiter, which counts a
// request with a valid key or token against that key's own limit instead of
// the origin and client limits. Preflights never get here: browsers cannot
// attach a key to them.
//
// The key is taken from X-Corsbridge-Key, else from a corsbridge_key
// parameter: in the proxy's own query for /?url=..., or in the target's
// query for /https://host/path?...&corsbridge_key=... Every corsbridge_key
// parameter is removed from the target's raw query, and every other byte of
// it is left as it was, so the upstream never sees the key. Neither the key
// nor the query is ever logged; the log names the key (or token id) only.
func (s *Server) checkAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r)
		cred := takeKey(r, info.target)
		now := info.start
		if now.IsZero() {
			now = time.Now()
		}
		grant, err := s.access.Authorize(cred, info.origin, info.target, now)
		if err != nil {
			s.writeAccessError(w, r, err)
			return
		}
		if grant != nil {
			info.grant = grant
			r = r.WithContext(ratelimit.WithKey(r.Context(), grant.Name, grant.Limit))
		}
		next.ServeHTTP(w, r)
	})
}

// checkAccessHop applies the blocks and the key's target scope to a redirect
// hop about to be followed.
func (s *Server) checkAccessHop(next *http.Request) error {
	return s.access.CheckHop(infoFrom(next).grant, next.URL)
}

func (s *Server) writeAccessError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *access.Error
	if !errors.As(err, &ae) {
		s.writeError(w, r, codeInternal, "internal error")
		return
	}
	code := codeKeyForbidden
	switch ae.Code {
	case access.CodeKeyRequired:
		code = codeKeyRequired
	case access.CodeOriginBlocked:
		code = codeOriginBlocked
	case access.CodeTargetBlocked:
		code = codeTargetBlocked
	case access.CodeUnavailable:
		code = codeUnavailable
		w.Header().Set("Retry-After", "1")
	}
	s.writeError(w, r, code, ae.Reason)
}

// takeKey returns the request's key or token ("" for none) and removes every
// corsbridge_key parameter from the target's query.
func takeKey(r *http.Request, target *url.URL) string {
	var cred string
	if v := r.Header[HeaderKey]; len(v) > 0 {
		cred = strings.TrimSpace(v[0])
	}
	if cred == "" && r.URL.Path == "/" {
		// The query form: the key sits beside url= in the proxy's own query.
		if _, _, v, found := cutKeyParam(r.URL.RawQuery); found {
			cred = v
		}
	}
	if target == nil || target.RawQuery == "" {
		return cred
	}
	rest, keptAny, v, found := cutKeyParam(target.RawQuery)
	if !found {
		return cred
	}
	if cred == "" {
		cred = v
	}
	target.RawQuery = rest
	target.ForceQuery = keptAny && rest == ""
	return cred
}

// cutKeyParam removes every corsbridge_key parameter from a raw query and
// returns what is left (the other parameters, byte for byte, in order),
// whether any parameter is left, and the first key's decoded value. A name
// written with percent-escapes (corsbridge%5Fkey) is the same parameter to an
// upstream that decodes names, so it is removed too.
func cutKeyParam(rawQuery string) (rest string, keptAny bool, value string, found bool) {
	if !strings.Contains(rawQuery, keyParam) && strings.IndexByte(rawQuery, '%') < 0 {
		return rawQuery, rawQuery != "", "", false
	}
	var b strings.Builder
	for piece := range strings.SplitSeq(rawQuery, "&") {
		name, v, _ := strings.Cut(piece, "=")
		if isKeyParam(name) {
			if !found {
				found = true
				if value = v; strings.ContainsAny(v, "%+") {
					if dec, err := url.QueryUnescape(v); err == nil {
						value = dec
					}
				}
			}
			continue
		}
		if keptAny {
			b.WriteByte('&')
		}
		b.WriteString(piece)
		keptAny = true
	}
	if !found {
		return rawQuery, rawQuery != "", "", false
	}
	return b.String(), keptAny, strings.TrimSpace(value), true
}

func isKeyParam(name string) bool {
	if name == keyParam {
		return true
	}
	if !strings.ContainsAny(name, "%+") {
		return false
	}
	dec, err := url.QueryUnescape(name)
	return err == nil && dec == keyParam
}
