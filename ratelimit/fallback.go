package ratelimit

import (
	"context"
	"time"
)

// probeKey is the counter key the health probe counts under, with a limit it
// never reaches: it runs the same script as requests, so a Redis that answers
// PING but refuses scripts is not taken for healthy.
const probeKey = "probe"

// probeTimeout bounds one probe.
const probeTimeout = 500 * time.Millisecond

// take counts one request against each of counts in order, stopping at the
// first that refuses (the ones before it stay counted), and appends the
// decisions to out. It counts in Redis while Redis is healthy, all in one
// round trip where the keys share a server, and in the rules' in-memory
// counters without Redis or while it is unavailable.
//
// The first Redis error marks Redis unavailable (logged once); from then on
// requests do not wait on Redis at all (FailOpen counts them locally,
// FailClosed refuses them with errUnavailable) until the background probe
// gets an answer again. Counts Redis made before an error stand; the rest go
// to the fallback. An error caused by the request's own cancellation says
// nothing about Redis and is not counted as one.
func (l *Limiter) take(ctx context.Context, counts []count, now time.Time, out []Decision) ([]Decision, error) {
	done, err := l.inRedis(ctx, func() (err error) {
		out, err = l.counter.takeEach(ctx, counts, now, out)
		return err
	})
	if done || err != nil {
		return out, err
	}
	for _, ct := range counts[len(out):] {
		d := ct.rule.local.take(ct.key, now, ct.rule.limit)
		out = append(out, d)
		if !d.Allowed {
			break
		}
	}
	return out, nil
}

// inRedis runs count, the Redis half of a counting, when Redis is configured
// and not marked unavailable, and reports whether it counted. An error of
// count marks Redis unavailable, unless the request's own cancellation
// caused it. When Redis did not count, the caller counts in memory, or,
// with Redis configured and FailClosed, refuses: then err is
// errUnavailable.
func (l *Limiter) inRedis(ctx context.Context, count func() error) (done bool, err error) {
	if l.counter == nil {
		return false, nil
	}
	if !l.degraded.Load() {
		err := count()
		if err == nil {
			return true, nil
		}
		if ctx.Err() == nil {
			l.markDegraded(err)
		}
	}
	if l.failClosed {
		return false, errUnavailable
	}
	return false, nil
}

// probe runs one script call against Redis.
func (l *Limiter) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := l.counter.Take(ctx, probeKey, time.Now(), Limit{Requests: MaxRequests, Window: time.Second})
	return err
}

// probeLoop brings the Limiter back to Redis: while degraded, it probes every
// interval and marks Redis available on the first success. It returns when
// ctx is cancelled (Close).
func (l *Limiter) probeLoop(ctx context.Context, interval time.Duration) {
	defer close(l.probeDone)
	every(ctx, interval, func(ctx context.Context) {
		if l.degraded.Load() && l.probe(ctx) == nil {
			l.markHealthy()
		}
	})
}

// every calls f every interval until ctx is cancelled: the loop of the
// probe and of the bytes flush.
func every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// markDegraded switches to the fallback; only the caller that makes the
// transition logs it, so a burst of failing requests logs one line.
func (l *Limiter) markDegraded(err error) {
	if l.closed.Load() || !l.degraded.CompareAndSwap(false, true) {
		return
	}
	action := "counting in memory per instance until it is back"
	if l.failClosed {
		action = "refusing limited requests with 503 until it is back"
	}
	l.log.Warn("ratelimit: redis unavailable, "+action,
		"err", err, "fail_mode", l.failMode())
}

func (l *Limiter) markHealthy() {
	if l.degraded.CompareAndSwap(true, false) {
		l.log.Info("ratelimit: redis available again, counting in redis")
	}
}

func (l *Limiter) failMode() FailMode {
	if l.failClosed {
		return FailClosed
	}
	return FailOpen
}
