package ratelimit

import (
	"sync"
	"time"
)

// quotaCounter counts quotas in memory: without Redis, and while it is
// unavailable. It is exact within the instance: the check, the rate limit
// and the count happen under one lock. Each key has one entry, of its
// latest day and month; windows only move forward, so a request that read
// the clock just before midnight counts in the new day, as localCounter
// counts such a request in the latest window. Entries of keys unused this
// month are dropped when the day changes.
type quotaCounter struct {
	mu      sync.Mutex
	entries map[string]*quotaEntry
	day     int // the latest day counted
}

// quotaEntry is one key's counts: daily of day, monthly and bytes of month.
type quotaEntry struct {
	day, month int
	used       [nQuotas]int64
}

// roll moves e to c's windows when they are later, starting their counts
// at 0.
func (e *quotaEntry) roll(c *calendar) {
	if c.day > e.day {
		e.day, e.used[qDaily] = c.day, 0
	}
	if c.month > e.month {
		e.month, e.used[qMonthly], e.used[qBytes] = c.month, 0, 0
	}
}

// entry returns name's entry, made on first use; the caller holds mu.
func (qc *quotaCounter) entry(name string) *quotaEntry {
	e := qc.entries[name]
	if e == nil {
		if qc.entries == nil {
			qc.entries = make(map[string]*quotaEntry)
		}
		e = &quotaEntry{}
		qc.entries[name] = e
	}
	return e
}

// take admits one request for name if its quotas and then its rate (lc
// counting rateKey against l; nil lc for none) leave room, and counts it
// against both. A refused request counts against nothing. It returns the
// counts (after this request when allowed), the refusing quota or -1, and
// the rate's decision.
func (qc *quotaCounter) take(name string, q Quota, c *calendar, lc *localCounter, rateKey string, l Limit, now time.Time) (used [nQuotas]int64, refused int, d Decision) {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	qc.prune(c)
	e := qc.entry(name)
	e.roll(c)
	used = e.used
	if refused = exceeded(q, used); refused >= 0 {
		if lc != nil {
			d = lc.decide(rateKey, now, l, false)
		}
		return used, refused, d
	}
	if lc != nil {
		if d = lc.decide(rateKey, now, l, true); !d.Allowed {
			return used, -1, d
		}
	}
	if q.Daily > 0 {
		e.used[qDaily]++
	}
	if q.Monthly > 0 {
		e.used[qMonthly]++
	}
	return e.used, -1, d
}

// addBytes counts n response bytes for name in month. Bytes of a month
// that has ended for name are dropped: its quota has started over.
func (qc *quotaCounter) addBytes(name string, month int, n int64) {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	e := qc.entry(name)
	if month > e.month {
		e.month, e.used[qMonthly], e.used[qBytes] = month, 0, 0
	}
	if month == e.month {
		e.used[qBytes] += n
	}
}

// status reads name's counts in c's windows without counting.
func (qc *quotaCounter) status(name string, c *calendar) [nQuotas]int64 {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	var used [nQuotas]int64
	if e := qc.entries[name]; e != nil {
		if e.day == c.day {
			used[qDaily] = e.used[qDaily]
		}
		if e.month == c.month {
			used[qMonthly], used[qBytes] = e.used[qMonthly], e.used[qBytes]
		}
	}
	return used
}

// prune drops, when the day has changed since the last count, the entries
// whose month has ended; the caller holds mu.
func (qc *quotaCounter) prune(c *calendar) {
	if c.day <= qc.day {
		return
	}
	qc.day = c.day
	for name, e := range qc.entries {
		if e.month < c.month {
			delete(qc.entries, name)
		}
	}
}
