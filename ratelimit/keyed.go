package ratelimit

import "context"

// LimitKey names the per-key limit, as OnRefused reports it.
const LimitKey = "key"

// keyed is the limit a request carries for itself: an access key's or a
// signed token's, set by the access middleware with WithKey.
type keyed struct {
	name  string
	limit Limit
	quota Quota
}

type keyedCtx struct{}

// WithKey returns a context under which the Limiter's middleware counts the
// request under "key:"+name against limit, instead of the origin and client
// limits: a caller with a key is known, so the limits meant for anonymous
// pages and addresses give way to the key's own. An Off limit counts
// nothing. limit must be valid (see Limit.Validate); the caller validates it
// once, when the key is loaded.
//
// Set Config.Keys so that, with Redis, key counts are shared even when the
// origin and client limits are both off.
func WithKey(ctx context.Context, name string, limit Limit) context.Context {
	return context.WithValue(ctx, keyedCtx{}, keyed{name: name, limit: limit})
}

// WithKeyQuota is WithKey with the key's quotas too (see Request.KeyQuota).
// The middleware counts requests against them; response bytes count only
// when the caller reports them with Limiter.CountBytes.
func WithKeyQuota(ctx context.Context, name string, limit Limit, q Quota) context.Context {
	return context.WithValue(ctx, keyedCtx{}, keyed{name: name, limit: limit, quota: q})
}

func keyedFrom(ctx context.Context) (keyed, bool) {
	k, ok := ctx.Value(keyedCtx{}).(keyed)
	return k, ok
}
