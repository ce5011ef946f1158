package allowlist

import "net/url"

// A sandboxed iframe, a file: page or a data: URL sends Origin: null, so a page denied or
// blocked by its origin could reach the proxy again by sandboxing itself. Deny rules and
// run-time blocks therefore judge a null origin by the Referer's origin as well: the browser
// sets the Referer to the document that made the request, and a page cannot make it name
// another origin. What stays open is the Referer's absence: a page may suppress it
// (referrerpolicy="no-referrer", Referrer-Policy: no-referrer), and then only a rule for
// "null" itself can refuse the request.

// MatchDeny reads the set as deny rules (CORSBRIDGE_DENY_ORIGINS, run-time blocks): it
// matches origin as Match does and, when origin is "null", the origin of referer (a raw
// Referer header value) too. A page under a rule must not escape it by sandboxing itself: a
// sandboxed iframe makes the browser send Origin: null, but the frame's Referer still names
// the page it came from (unless the page suppresses it, which the web platform allows: see
// README). A "null" pattern still matches every null origin, Referer or not.
func (s *OriginSet) MatchDeny(origin, referer string) bool {
	if s.Match(origin) {
		return true
	}
	if origin != "null" {
		return false
	}
	o, ok := refererOrigin(referer)
	return ok && s.match(o)
}

// refererOrigin is the origin of a Referer header value; false when it has none (empty,
// "about:client", a file: or data: URL, garbage).
func refererOrigin(referer string) (origin, bool) {
	if referer == "" {
		return origin{}, false
	}
	u, err := url.Parse(referer)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return origin{}, false
	}
	return parseOrigin(u.Scheme + "://" + u.Host)
}

// CheckOriginFrom is CheckOrigin for a request that also carried referer (a raw Referer
// header value, "" when absent): a "null" origin is judged by the deny rules under the
// Referer's origin too (see OriginSet.MatchDeny). Allow rules are never judged by the
// Referer: with an allowlist, "null" stays refused.
func (p *Policy) CheckOriginFrom(origin, referer string) error {
	if err := p.CheckOrigin(origin); err != nil {
		return err
	}
	if origin == "null" && p.denyOrigins != nil && p.denyOrigins.MatchDeny(origin, referer) {
		return refused(CauseOriginDenied, "the page's origin, from its Referer, is denied")
	}
	return nil
}
