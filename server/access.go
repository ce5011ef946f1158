package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/proxy"
)

// HeaderKey carries an access key or a signed token. headers.go drops it
// from every forwarded request.
const HeaderKey = "X-Corsbridge-Key"

// keyParam is the query parameter form of HeaderKey, for pages that cannot
// set headers (an <img>, an EventSource) or that would rather not pay for a
// preflight. It is removed from the target's query before forwarding.
const keyParam = "corsbridge_key"

// authorize is the access step: run-time blocks, then access keys and
// tokens (package access). It runs after the origin and target policy, so
// the target it judges is canonical, and before the limits, which count a
// request with a valid key or token against that key's own limit instead of
// the origin and client limits. Preflights never get here: browsers cannot
// attach a key to them.
//
// The key is taken from X-Corsbridge-Key, else from a corsbridge_key
// parameter: in the proxy's own query for /?url=..., or in the target's
// query for /https://host/path?...&corsbridge_key=... It returns the target
// with every corsbridge_key parameter removed from its raw query and every
// other byte of it as it was, so the upstream never sees the key. Neither the
// key nor the query is ever logged; the log names the key (or token id) only.
//
// A refusal of a genuine key or token (out of scope, expired, or a block)
// still names it, so its usage and the log show who was refused; a
// credential that is unknown, malformed or badly signed names nobody.
func (s *Server) authorize(r *http.Request, origin string, target *url.URL, now time.Time) (*access.Grant, *url.URL, error) {
	cred, target := takeKey(r, target)
	grant, err := s.access.Authorize(cred, origin, r.Referer(), target, now)
	if err != nil {
		recordFrom(r).keyName = s.access.Identify(cred)
		return nil, nil, err
	}
	if grant != nil {
		recordFrom(r).keyName = grant.Name
	}
	return grant, target, nil
}

// checkHop is what every redirect hop must pass before it is followed:
// the same target policy as the first request, the blocks, and the scope of
// the request's grant (nil for none).
func (s *Server) checkHop(grant any, next *url.URL) error {
	if err := s.policy.CheckTarget(next); err != nil {
		// A Location that cannot be a target at all (no host, another
		// scheme) is the upstream's broken redirect, not the client's 400.
		var policy *allowlist.Error
		if errors.As(err, &policy) && policy.Kind == allowlist.KindInvalid {
			return fmt.Errorf("%w: %w", proxy.ErrBadRedirect, err)
		}
		return err
	}
	g, _ := grant.(*access.Grant)
	return s.access.CheckHop(g, next)
}

// takeKey returns the request's key or token ("" for none), and the target
// without any corsbridge_key parameter in its query (a copy when it had one).
func takeKey(r *http.Request, target *url.URL) (string, *url.URL) {
	var cred string
	if r.URL.Path == "/" {
		// The query form: the key may sit beside url= in the proxy's own
		// query.
		cred = requestKey(r)
	} else {
		cred = headerKey(r)
	}
	if target.RawQuery == "" {
		return cred, target
	}
	rest, keptAny, v, found := cutKeyParam(target.RawQuery)
	if !found {
		return cred, target
	}
	if cred == "" {
		cred = v
	}
	stripped := *target
	stripped.RawQuery = rest
	stripped.ForceQuery = keptAny && rest == ""
	return cred, &stripped
}

// headerKey is the X-Corsbridge-Key header's credential, "" for none.
func headerKey(r *http.Request) string {
	if v := r.Header[HeaderKey]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// requestKey is the credential of a request to the proxy's own URL: the
// header, else a corsbridge_key parameter in its query.
func requestKey(r *http.Request) string {
	if cred := headerKey(r); cred != "" {
		return cred
	}
	if _, _, v, found := cutKeyParam(r.URL.RawQuery); found {
		return v
	}
	return ""
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
