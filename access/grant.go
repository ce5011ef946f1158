package access

import (
	"net/url"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/rate"
)

// Grant is what a valid key or token allows: who it is (for the request log
// and the rate-limit counter), its limit and quotas, its expiry and its scope. A Grant
// is immutable.
type Grant struct {
	// Name is the key's name, or "token:<id>" for a signed token; the
	// limiter counts under "key:"+Name. Never a secret.
	Name  string
	Limit rate.Limit
	// Quota is its calendar quotas, counted under the same name; zero:
	// none.
	Quota rate.Quota

	expires time.Time            // zero: never
	origins *allowlist.OriginSet // nil: any origin
	targets *allowlist.TargetSet // nil: any target
	token   bool
	secrets []string // names of the secrets it may send, sorted
}

// check applies the grant's expiry and scope to one request.
func (g *Grant) check(origin string, target *url.URL, now time.Time) *Error {
	if err := g.checkExpiry(now); err != nil {
		return err
	}
	if err := g.checkOrigin(origin); err != nil {
		return err
	}
	if err := g.checkTarget(target); err != nil {
		return err
	}
	return nil
}

func (g *Grant) checkExpiry(now time.Time) *Error {
	if !g.expires.IsZero() && !now.Before(g.expires) {
		return g.pick(errKeyExpired, errTokenExpired)
	}
	return nil
}

// checkOrigin applies the origin scope: a scoped grant needs an Origin
// that matches it.
func (g *Grant) checkOrigin(origin string) *Error {
	if g.origins != nil && (origin == "" || !g.origins.Match(origin)) {
		return g.pick(errKeyOrigin, errTokenOrigin)
	}
	return nil
}

// checkTarget applies the target scope, to the request and to every
// redirect hop.
func (g *Grant) checkTarget(target *url.URL) *Error {
	if g.targets != nil && !g.targets.Match(target) {
		return g.pick(errKeyTarget, errTokenTarget)
	}
	return nil
}

func (g *Grant) pick(key, token *Error) *Error {
	if g.token {
		return token
	}
	return key
}
