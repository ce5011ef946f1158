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
	// RefusedBy names the limit that refused (LimitOrigin, LimitClient or
	// LimitKey); "" when allowed.
	RefusedBy   string
	limitHeader string
}

// Allowed reports whether the request may go on.
func (r Result) Allowed() bool { return !r.Unavailable && r.RefusedBy == "" }

// SetHeaders writes the result's headers: X-RateLimit-* when a limit
// counted the request, and Retry-After when it was refused (seconds until a
// slot frees, at least 1) or the limits were unavailable (1).
func (r Result) SetHeaders(h http.Header) {
	if r.Unavailable {
		h["Retry-After"] = []string{"1"}
		return
	}
	if !r.Counted {
		return
	}
	setHeaders(h, r.Decision, r.limitHeader)
	if r.RefusedBy != "" {
		h["Retry-After"] = []string{strconv.FormatInt(int64(r.Decision.RetryAfter/time.Second), 10)}
	}
}

// Take counts one request against the limits that apply to it.
//
// Without a key, the client limit (by ClientIP) is checked first, so
// requests it refuses do not use up the origin's quota; requests the origin
// limit refuses still count for the client, which did send them. An Origin
// that is not a valid origin counts under one shared key that no exemption
// matches. With Redis all of a request's limits are counted in one round
// trip (see RedisCounter).
func (l *Limiter) Take(ctx context.Context, req Request, now time.Time) Result {
	if req.Key != "" {
		return l.takeKeyed(ctx, req, now)
	}
	var countBuf [2]count
	counts := countBuf[:0]
	if l.client != nil {
		counts = append(counts, count{rule: l.client, key: l.client.name + clientKey(req.Client)})
	}
	if l.origin != nil && req.Origin != "" {
		key := l.originKey(req.Origin)
		switch {
		case key == "":
			key = invalidOriginKey // never exempt
		case l.exempt != nil && l.exempt(key):
			key = ""
		}
		if key != "" {
			counts = append(counts, count{rule: l.origin, key: l.origin.name + key})
		}
	}
	if len(counts) == 0 {
		return Result{}
	}
	var decisionBuf [2]Decision
	ds, err := l.take(ctx, counts, now, decisionBuf[:0])
	if err != nil {
		return Result{Unavailable: true}
	}
	tightest := 0
	for i, d := range ds {
		if !d.Allowed {
			return Result{Decision: d, Counted: true, RefusedBy: counts[i].rule.label, limitHeader: counts[i].rule.limitHeader}
		}
		if d.Remaining < ds[tightest].Remaining {
			tightest = i
		}
	}
	return Result{Decision: ds[tightest], Counted: true, limitHeader: counts[tightest].rule.limitHeader}
}

// takeKeyed counts a request under its key's own limit only.
func (l *Limiter) takeKeyed(ctx context.Context, req Request, now time.Time) Result {
	if req.KeyLimit.Off() {
		return Result{}
	}
	ru := rule{name: "key:", label: LimitKey, limit: req.KeyLimit, local: l.keyLocal.forWindow(req.KeyLimit.Window)}
	var decisionBuf [1]Decision
	ds, err := l.take(ctx, []count{{rule: &ru, key: ru.name + req.Key}}, now, decisionBuf[:0])
	if err != nil {
		return Result{Unavailable: true}
	}
	res := Result{Decision: ds[0], Counted: true}
	if !ds[0].Allowed {
		res.RefusedBy = LimitKey
	}
	return res
}
