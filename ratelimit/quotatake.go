package ratelimit

import (
	"context"
	"time"
)

// takeQuota admits one request of a key with quotas: its quotas and its
// rate (if on) are checked together and the request counted against all of
// them, or refused and counted against none. With Redis this is one call of
// quotaScript, shared exactly by every instance; without it, or while it is
// unavailable, the in-memory counters do it per instance, by the rule
// FailMode sets for the rate limits.
func (l *Limiter) takeQuota(ctx context.Context, req Request, now time.Time) Result {
	cal := l.calendars.at(now)
	var t quotaTake
	done, err := l.inRedis(ctx, func() (err error) {
		var unflushed int64
		if req.KeyQuota.MonthlyBytes > 0 {
			unflushed = l.bytes.unflushed(req.Key, cal.month)
		}
		t, err = l.counter.takeQuota(ctx, req.Key, req.KeyLimit, req.KeyQuota, unflushed, cal, now)
		return err
	})
	if err != nil {
		return Result{Unavailable: true}
	}
	if !done {
		var lc *localCounter
		var rateKey string
		if !req.KeyLimit.Off() {
			lc, rateKey = l.keyLocal.forWindow(req.KeyLimit.Window), "key:"+req.Key
		}
		t.used, t.refused, t.d = l.quotas.take(req.Key, req.KeyQuota, cal, lc, rateKey, req.KeyLimit, now)
	}
	res := Result{Counted: true, now: now, cal: cal, quota: req.KeyQuota, qUsed: t.used,
		policy: l.keyPolicies.get(req.KeyLimit, req.KeyQuota, cal)}
	if !req.KeyLimit.Off() {
		res.Decision, res.rates[0], res.labels[0], res.nRates = t.d, t.d, LimitKey, 1
	}
	switch {
	case t.refused >= 0:
		res.RefusedBy = LimitQuota
		res.Quota = cal.use(t.refused, quotaLimits(req.KeyQuota)[t.refused], t.used[t.refused])
	case !req.KeyLimit.Off() && !t.d.Allowed:
		res.RefusedBy = LimitKey
	}
	return res
}

// CountBytes counts n response body bytes against key's monthly bytes
// quota in q (nothing when it is off): call it once a keyed request's
// response has ended. It never waits on Redis: with Redis the bytes are
// added to this instance's batch, which is flushed every second and on
// Close, so other instances see them up to a second later; without Redis,
// or while it is unavailable, they are counted in memory.
func (l *Limiter) CountBytes(key string, q Quota, n int64, now time.Time) {
	if q.MonthlyBytes <= 0 || n <= 0 {
		return
	}
	cal := l.calendars.at(now)
	if l.counter != nil && !l.degraded.Load() {
		l.bytes.add(key, cal, n)
		return
	}
	l.quotas.addBytes(key, cal.month, n)
}

// QuotaStatus reports key's quotas in q that are on (daily, monthly,
// monthly-bytes, in that order) at now, counting nothing: for the usage
// endpoint. With Redis it reads the counters in one round trip (MGET under
// the key's hash tag) and adds this instance's bytes not yet flushed;
// without Redis, or while it is unavailable, it reads the in-memory
// counters, and with FailClosed it returns the error instead. An error
// reading Redis is returned as is.
func (l *Limiter) QuotaStatus(ctx context.Context, key string, q Quota, now time.Time) ([]QuotaUse, error) {
	if q.Off() {
		return nil, nil
	}
	cal := l.calendars.at(now)
	var used [nQuotas]int64
	switch {
	case l.counter != nil && !l.degraded.Load():
		var err error
		if used, err = l.counter.quotaStatus(ctx, key, cal); err != nil {
			return nil, err
		}
		used[qBytes] += l.bytes.unflushed(key, cal.month)
	case l.counter != nil && l.failClosed:
		return nil, errUnavailable
	default:
		used = l.quotas.status(key, cal)
	}
	return cal.uses(q, used, make([]QuotaUse, 0, nQuotas)), nil
}

// flushLoop flushes the bytes batch to Redis every interval, and once more
// when ctx is cancelled (Close).
func (l *Limiter) flushLoop(ctx context.Context, interval time.Duration) {
	defer close(l.flushDone)
	every(ctx, interval, l.flushBytes)
	final, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	l.flushBytes(final)
	cancel()
}

// flushBytes writes the batch to Redis in one pipeline. If that fails, the
// bytes go to the in-memory counters instead, so the fallback counts them,
// and Redis is marked unavailable like a failed request would mark it.
func (l *Limiter) flushBytes(ctx context.Context) {
	p := l.bytes.take()
	if len(p) == 0 {
		return
	}
	err := l.counter.flushBytes(ctx, p)
	if err == nil {
		return
	}
	l.markDegraded(err)
	for s, n := range p {
		l.quotas.addBytes(s.name, s.month, n)
	}
}
