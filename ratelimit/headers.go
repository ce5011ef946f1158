package ratelimit

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The IETF headers (draft-ietf-httpapi-ratelimit-headers-10), by their
// canonical keys: RateLimit-Policy lists every limit a request was counted
// against, RateLimit what is left of each and when it resets, as
// structured-field lists of the same names in the same order:
//
//	RateLimit-Policy: "key";q=1000;w=3600, "daily";q=5000;w=86400
//	RateLimit: "key";r=998;t=1740, "daily";r=4812;t=51000
//
// A rate's w is its sliding window; a quota's is its UTC calendar window
// (86400 for a day, the current month's length for a month), and its t the
// seconds to midnight UTC or the first of the next month. The monthly bytes
// quota is in qu="content-bytes".
const (
	headerPolicy    = "Ratelimit-Policy"
	headerRateLimit = "Ratelimit"
)

// appendPolicy appends one member of RateLimit-Policy.
func appendPolicy(b []byte, name string, q int64, unit string, w int64) []byte {
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";q=`...)
	b = strconv.AppendInt(b, q, 10)
	if unit != "" {
		b = append(b, `;qu="`...)
		b = append(b, unit...)
		b = append(b, '"')
	}
	b = append(b, ";w="...)
	return strconv.AppendInt(b, w, 10)
}

// appendState appends one member of RateLimit to the list that starts at
// b[start].
func appendState(b []byte, start int, name string, r int64, t int64) []byte {
	if len(b) > start {
		b = append(b, ", "...)
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";r=`...)
	b = strconv.AppendInt(b, r, 10)
	b = append(b, ";t="...)
	return strconv.AppendInt(b, t, 10)
}

// ratePolicy is a rate limit's policy member.
func ratePolicy(b []byte, label string, l Limit) []byte {
	return appendPolicy(b, label, int64(l.Requests), "", int64(l.Window/time.Second))
}

// keyPolicy is the RateLimit-Policy of a key's rate l and quotas q in a
// month of monthDays days.
func keyPolicy(l Limit, q Quota, monthDays int) string {
	var b []byte
	if !l.Off() {
		b = ratePolicy(b, LimitKey, l)
	}
	for i, lim := range quotaLimits(q) {
		if lim == 0 {
			continue
		}
		w, unit := int64(monthDays)*86400, ""
		switch i {
		case qDaily:
			w = 86400
		case qBytes:
			unit = "content-bytes"
		}
		b = appendPolicy(b, quotaNames[i], lim, unit, w)
	}
	return string(b)
}

// policies keeps each key's RateLimit-Policy, formatted once per rate,
// quotas and month length rather than once per request. Its size is bounded
// by the distinct keys and tokens seen; it starts over past maxPolicies.
type policies struct {
	mu sync.RWMutex
	m  map[policyKey]string
}

type policyKey struct {
	limit     Limit
	quota     Quota
	monthDays int
}

const maxPolicies = 4096

func (p *policies) get(l Limit, q Quota, cal *calendar) string {
	k := policyKey{l, q, 0}
	if q.Monthly > 0 || q.MonthlyBytes > 0 {
		k.monthDays = cal.monthDays
	}
	p.mu.RLock()
	s, ok := p.m[k]
	p.mu.RUnlock()
	if ok {
		return s
	}
	s = keyPolicy(l, q, k.monthDays)
	p.mu.Lock()
	if p.m == nil || len(p.m) >= maxPolicies {
		p.m = make(map[policyKey]string)
	}
	p.m[k] = s
	p.mu.Unlock()
	return s
}

// secondsUntil is the whole seconds from now until t, rounded up, never
// below 0.
func secondsUntil(t, now time.Time) int64 {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// setHeaders sets X-RateLimit-* (the tightest rate's, when a rate counted
// the request) and the IETF headers, by their canonical keys to skip
// canonicalisation on the hot path, from one backing array of values and
// one string for all the numbers.
func setHeaders(h http.Header, r *Result) {
	var buf [256]byte
	b := buf[:0]
	var nLimit, nRem, nReset int
	if r.nRates > 0 {
		if r.limitHeader == "" { // a key's: formatted here, in the one string
			b = strconv.AppendInt(b, int64(r.Decision.Limit.Requests), 10)
		}
		nLimit = len(b)
		b = strconv.AppendInt(b, int64(r.Decision.Remaining), 10)
		nRem = len(b)
		b = strconv.AppendInt(b, r.Decision.Reset.Unix(), 10)
		nReset = len(b)
	}
	state := len(b)
	for i := range r.nRates {
		d := r.rates[i]
		t := secondsUntil(d.Reset, r.now)
		if !d.Allowed {
			t = max(t, int64(d.RetryAfter/time.Second))
		}
		b = appendState(b, state, r.labels[i], int64(d.Remaining), t)
	}
	if r.quota != (Quota{}) {
		for i, lim := range quotaLimits(r.quota) {
			if lim > 0 {
				b = appendState(b, state, quotaNames[i], max(lim-r.qUsed[i], 0), secondsUntil(r.cal.resets(i), r.now))
			}
		}
	}
	all := string(b)
	vals := make([]string, 5)
	vals[3], vals[4] = r.policy, all[state:]
	h[headerPolicy] = vals[3:4:4]
	h[headerRateLimit] = vals[4:5:5]
	if r.nRates == 0 {
		return
	}
	limit := r.limitHeader
	if limit == "" {
		limit = all[:nLimit]
	}
	vals[0], vals[1], vals[2] = limit, all[nLimit:nRem], all[nRem:nReset]
	h["X-Ratelimit-Limit"] = vals[0:1:1]
	h["X-Ratelimit-Remaining"] = vals[1:2:2]
	h["X-Ratelimit-Reset"] = vals[2:3:3]
}
