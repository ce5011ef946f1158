package access

import "time"

// Identify returns the name of a genuine credential, a key in the store or
// a token whose signature verifies, whether or not it is expired or allowed
// here; "" for anything else. The server uses it to attribute a refusal
// (key_forbidden, a block) to the key or token that was refused, in the
// usage ledger and the log. It grants nothing: the name is the operator's
// label, and only the credential's holder can make it appear.
func (g *Guard) Identify(cred string) string {
	if cred == "" {
		return ""
	}
	grant, err := g.lookup(g.current(), cred)
	if err != nil {
		return ""
	}
	return grant.Name
}

// Inspect decides whether a request may read its own credential's
// figures (GET /_corsbridge/usage): the credential must be genuine and
// unexpired, a blocked origin is refused, and the credential's origin
// scope applies whenever the request carries an Origin, so a page on
// another origin cannot read it. There is no target, so target scopes and
// target blocks do not apply. No credential is key_required. Errors are
// always *Error.
func (g *Guard) Inspect(cred, origin, referer string, now time.Time) (*Grant, error) {
	st := g.current()
	if origin != "" && st.blocks.originBlocked(origin, referer) {
		return nil, errOriginBlocked
	}
	if cred == "" {
		return nil, errKeyRequired
	}
	grant, err := g.lookup(st, cred)
	if err != nil {
		return nil, err
	}
	if err := grant.checkExpiry(now); err != nil {
		return nil, err
	}
	if origin != "" {
		if err := grant.checkOrigin(origin); err != nil {
			return nil, err
		}
	}
	return grant, nil
}
