package ratelimit

import (
	"time"
)

// Decision is the outcome of counting one request against one Limit.
//
// Counting uses httprate's sliding-window estimate: fixed windows aligned to
// the Unix epoch (so every instance agrees on them), and the rate at a moment
// elapsed into the current window is
//
//	previous * (window - elapsed) / window + current
//
// A request is allowed, and counted, when that rate plus one is at most the
// limit; refused requests are not counted. The test is done in integer
// milliseconds so the Go counter and the Redis script agree exactly.
type Decision struct {
	Allowed    bool
	Limit      Limit
	Remaining  int           // requests left now, after this one if allowed
	Reset      time.Time     // end of the current window (X-RateLimit-Reset)
	RetryAfter time.Duration // when refused: until a slot frees, at least 1s
}

// window locates now in a limit's epoch-aligned windows: the window's index
// and the milliseconds elapsed since it began.
func window(now time.Time, w time.Duration) (idx, elapsedMS int64) {
	ms, wms := now.UnixMilli(), w.Milliseconds()
	idx = ms / wms
	if ms%wms < 0 { // before 1970: floor, not truncate
		idx--
	}
	return idx, ms - idx*wms
}

// allows reports whether one more request fits, from the counts before it.
func allows(l Limit, curr, prev, elapsedMS int64) bool {
	wms := l.Window.Milliseconds()
	return prev*(wms-elapsedMS)+(curr+1)*wms <= int64(l.Requests)*wms
}

// decide builds the Decision from the counts the counter saw: curr includes
// this request when allowed.
func decide(l Limit, allowed bool, curr, prev int64, idx, elapsedMS int64) Decision {
	wms := l.Window.Milliseconds()
	lim := int64(l.Requests)
	d := Decision{
		Allowed: allowed,
		Limit:   l,
		Reset:   time.UnixMilli((idx + 1) * wms),
	}
	if left := (lim*wms - prev*(wms-elapsedMS) - curr*wms) / wms; left > 0 {
		d.Remaining = int(left)
	}
	if allowed {
		return d
	}
	// Earliest moment, with no further admissions, at which allows holds.
	var waitMS int64
	if curr+1 <= lim && prev > 0 {
		// Still this window, once the previous window's weight has decayed:
		// prev*(w-e) <= (lim-curr-1)*w.
		e := wms - ((lim-curr-1)*wms)/prev
		waitMS = e - elapsedMS
	} else {
		// Next window, where this window's count becomes the previous one:
		// curr*(w-e) <= (lim-1)*w.
		e := wms
		if curr > 0 {
			e = wms - ((lim-1)*wms)/curr
		}
		waitMS = wms - elapsedMS + e
	}
	secs := (waitMS + 999) / 1000
	if secs < 1 {
		secs = 1
	}
	d.RetryAfter = time.Duration(secs) * time.Second
	return d
}
