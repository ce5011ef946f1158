package ratelimit

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Request is one request as the limiter counts it. The server fills it from
// what the pipeline already knows, so the limiter parses nothing of the HTTP
// request itself.
type Request struct {
	// Client is the client's address (see ClientIP); the zero Addr counts
	// under one "unknown" bucket.
	Client netip.Addr
	// Origin is the raw Origin header value; "" for none. It is counted
	// under its OriginKey unless the exemption list matches it.
	Origin string
	// Key, when not empty, is an access key's (or signed token's) name: the
	// request is counted under "key:"+Key against KeyLimit alone, instead
	// of the origin and client limits. A known caller's own limit replaces
	// the limits meant for anonymous pages and addresses. An Off KeyLimit
	// counts nothing.
	Key      string
	KeyLimit Limit
	// KeyQuota are the key's calendar quotas, checked and counted with
	// KeyLimit in one step (see Limiter.takeQuota); zero: none.
	KeyQuota Quota
}

// Result is the limiter's answer for one request.
type Result struct {
	// Decision is the refusing limit's decision, or, when allowed, that of
	// the limit with the fewest requests left. Counted is false when no
	// limit applied and Decision is empty.
	Decision Decision
	Counted  bool
	// Unavailable: FailClosed refused to decide without Redis (503).
	Unavailable bool
	// RefusedBy names the limit that refused (LimitOrigin, LimitClient,
	// LimitKey or LimitQuota); "" when allowed.
	RefusedBy string
	// Quota is, when RefusedBy is LimitQuota, the quota that refused.
	Quota QuotaUse
	// ConcurrencyLimited: RefusedBy's cap on requests in flight refused the
	// request (429 concurrency_limited), not its rate limit.
	ConcurrencyLimited bool
	// Held are the request's places in flight, held until Release.
	Held        Held
	limitHeader string

	// For the IETF headers: the rates counted (Decision is the tightest or
	// refusing one of them) with their names, the quotas with their counts,
	// the policy formatted in advance, and the moment of counting.
	rates  [2]Decision
	labels [2]string
	nRates int
	quota  Quota
	qUsed  [nQuotas]int64
	policy string
	now    time.Time
	cal    *calendar // with quotas
}

// Release gives back the request's places in flight (see Held.Release):
// call it once, when the response has ended.
func (r Result) Release() { r.Held.Release() }

// Allowed reports whether the request may go on.
func (r Result) Allowed() bool { return !r.Unavailable && r.RefusedBy == "" }

// SetHeaders writes the result's headers: X-RateLimit-* when a rate limit
// counted the request, RateLimit-Policy and RateLimit when any limit or
// quota did (see headerPolicy), and Retry-After when it was refused
// (seconds until a slot frees, at least 1; for a quota, until it resets) or
// the limits were unavailable (1). A request
// refused for the requests in flight gets Retry-After: 1: no one knows when
// a held response will end, and a refused request cost nothing to send.
func (r Result) SetHeaders(h http.Header) {
	if r.Unavailable || r.ConcurrencyLimited {
		h["Retry-After"] = []string{"1"}
		return
	}
	if !r.Counted {
		return
	}
	setHeaders(h, &r)
	switch r.RefusedBy {
	case "":
	case LimitQuota:
		h["Retry-After"] = []string{strconv.FormatInt(max(secondsUntil(r.Quota.Resets, r.now), 1), 10)}
	default:
		h["Retry-After"] = []string{strconv.FormatInt(int64(r.Decision.RetryAfter/time.Second), 10)}
	}
}

// Take admits one request: it takes the request's places in flight under
// the concurrency caps (see hold), then counts it against the rate limits
// that apply to it. An allowed request holds its places until the caller
// calls Result.Release; a refused one holds none. The caps come first: they
// cost no Redis round trip, so a client refused for holding too many
// streams does not load Redis either.
func (l *Limiter) Take(ctx context.Context, req Request, now time.Time) Result {
	b := l.bucketsOf(req)
	held, refusedBy := l.hold(req, b)
	if refusedBy != "" {
		return Result{RefusedBy: refusedBy, ConcurrencyLimited: true}
	}
	res := l.count(ctx, req, b, now)
	if !res.Allowed() {
		held.Release()
		return res
	}
	res.Held = held
	return res
}

// count counts one request against the rate limits that apply to it.
//
// Without a key, the client limit (by ClientIP) is checked first, so
// requests it refuses do not use up the origin's quota; requests the origin
// limit refuses still count for the client, which did send them. An Origin
// that is not a valid origin counts under one shared key that no exemption
// matches. With Redis all of a request's limits are counted in one round
// trip (see RedisCounter).
func (l *Limiter) count(ctx context.Context, req Request, b buckets, now time.Time) Result {
	if req.Key != "" {
		return l.takeKeyed(ctx, req, now)
	}
	var countBuf [2]count
	counts := countBuf[:0]
	if l.client != nil {
		counts = append(counts, count{rule: l.client, key: b.client})
	}
	if l.origin != nil && b.origin != "" {
		counts = append(counts, count{rule: l.origin, key: b.origin})
	}
	if len(counts) == 0 {
		return Result{}
	}
	var decisionBuf [2]Decision
	ds, err := l.take(ctx, counts, now, decisionBuf[:0])
	if err != nil {
		return Result{Unavailable: true}
	}
	res := Result{Counted: true, nRates: len(ds), now: now}
	for i, d := range ds {
		res.rates[i], res.labels[i] = d, counts[i].rule.label
	}
	// The policy lists the limits the request was counted against: the
	// client's alone when it refused, before the origin's was checked.
	switch {
	case len(ds) == 2:
		res.policy = l.anonPolicies[2]
	case counts[0].rule == l.origin:
		res.policy = l.anonPolicies[1]
	default:
		res.policy = l.anonPolicies[0]
	}
	tightest := 0
	for i, d := range ds {
		if !d.Allowed {
			res.Decision, res.RefusedBy, res.limitHeader = d, counts[i].rule.label, counts[i].rule.limitHeader
			return res
		}
		if d.Remaining < ds[tightest].Remaining {
			tightest = i
		}
	}
	res.Decision, res.limitHeader = ds[tightest], counts[tightest].rule.limitHeader
	return res
}

// anonPolicies formats the RateLimit-Policy values of keyless requests
// once: counted by the client limit alone, by the origin limit alone, or
// by both (client first, the order they are counted in).
func anonPolicies(client, origin *rule) [3]string {
	var c, o, both []byte
	if client != nil {
		c = ratePolicy(nil, client.label, client.limit)
		both = ratePolicy(both, client.label, client.limit)
	}
	if origin != nil {
		o = ratePolicy(nil, origin.label, origin.limit)
		both = ratePolicy(both, origin.label, origin.limit)
	}
	return [3]string{string(c), string(o), string(both)}
}

// takeKeyed counts a request under its key's own limit only, and its
// quotas if it has any.
func (l *Limiter) takeKeyed(ctx context.Context, req Request, now time.Time) Result {
	if !req.KeyQuota.Off() {
		return l.takeQuota(ctx, req, now)
	}
	if req.KeyLimit.Off() {
		return Result{}
	}
	ru := rule{name: "key:", label: LimitKey, limit: req.KeyLimit, local: l.keyLocal.forWindow(req.KeyLimit.Window)}
	var decisionBuf [1]Decision
	ds, err := l.take(ctx, []count{{rule: &ru, key: ru.name + req.Key}}, now, decisionBuf[:0])
	if err != nil {
		return Result{Unavailable: true}
	}
	res := Result{Decision: ds[0], Counted: true, nRates: 1, now: now,
		policy: l.keyPolicies.get(req.KeyLimit, Quota{}, nil)}
	res.rates[0], res.labels[0] = ds[0], LimitKey
	if !ds[0].Allowed {
		res.RefusedBy = LimitKey
	}
	return res
}

// buckets are the keys a request is held and counted under, worked out once
// for both the caps in flight and the rate limits, with the prefix both use
// (the rules' names): "client:" and the client's address group, "origin:"
// and the origin's bucket (see bucketOf). Each is "" when nothing uses it.
type buckets struct{ client, origin string }

func (l *Limiter) bucketsOf(req Request) buckets {
	var b buckets
	if l.client != nil || l.clientConc > 0 {
		var buf [64]byte // "client:" and an IPv6 /64 fit
		b.client = string(appendClientKey(append(buf[:0], clientPrefix...), req.Client))
	}
	if req.Key == "" && (l.origin != nil || l.originConc > 0) {
		if key := l.bucketOf(req.Origin); key != "" {
			b.origin = originPrefix + key
		}
	}
	return b
}

// bucketOf is the key an Origin header is counted under by the origin
// limit and cap: "" for none or an exempt one, one shared key for every
// invalid one (which no exemption matches).
func (l *Limiter) bucketOf(origin string) string {
	if origin == "" {
		return ""
	}
	switch key := l.originKey(origin); {
	case key == "":
		return invalidOriginKey
	case l.exempt != nil && l.exempt(key):
		return ""
	default:
		return key
	}
}
