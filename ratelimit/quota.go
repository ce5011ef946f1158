package ratelimit

import (
	"strconv"
	"sync"
	"time"

	"github.com/corsbridge/corsbridge/rate"
)

// Quota is a key's calendar quotas (package rate): requests per UTC day and
// per UTC month, response body bytes per UTC month.
type Quota = rate.Quota

// Names of the quotas, as QuotaUse, the RateLimit headers and the
// quota_exceeded message report them.
const (
	QuotaDaily        = "daily"
	QuotaMonthly      = "monthly"
	QuotaMonthlyBytes = "monthly-bytes"
)

// LimitQuota names a refusal by one of a key's quotas, as Result.RefusedBy
// and OnRefused report it; Result.Quota says which.
const LimitQuota = "quota"

// QuotaUse is one quota's state: Used counts this request when it was
// counted; Remaining is Limit-Used, never below 0; Resets is the start of
// the next UTC day or month, when Used goes back to 0.
type QuotaUse struct {
	Name                   string // QuotaDaily, QuotaMonthly or QuotaMonthlyBytes
	Limit, Used, Remaining int64
	Resets                 time.Time
}

// The quotas in the order they are checked, reported and stored: a
// request is counted against daily and monthly, its response's bytes
// against monthly bytes.
const (
	qDaily = iota
	qMonthly
	qBytes
	nQuotas
)

var quotaNames = [nQuotas]string{QuotaDaily, QuotaMonthly, QuotaMonthlyBytes}

// limits lists q's three numbers in the order above.
func quotaLimits(q Quota) [nQuotas]int64 { return [nQuotas]int64{q.Daily, q.Monthly, q.MonthlyBytes} }

// calendar is the UTC day and month a moment falls in: their numbers
// (20261202, 202612), which name the counters, and where they end.
type calendar struct {
	day, month         int
	nextDay, nextMonth time.Time
}

func calendarAt(now time.Time) calendar {
	y, m, d := now.UTC().Date()
	return calendar{
		day:       y*10000 + int(m)*100 + d,
		month:     y*100 + int(m),
		nextDay:   rate.NextDay(now),
		nextMonth: rate.NextMonth(now),
	}
}

// period and resets are quota i's window number and end.
func (c calendar) period(i int) int {
	if i == qDaily {
		return c.day
	}
	return c.month
}

func (c calendar) resets(i int) time.Time {
	if i == qDaily {
		return c.nextDay
	}
	return c.nextMonth
}

// uses reports the quotas of q that are on, from the counts used.
func (c calendar) uses(q Quota, used [nQuotas]int64, out []QuotaUse) []QuotaUse {
	for i, lim := range quotaLimits(q) {
		if lim > 0 {
			out = append(out, QuotaUse{Name: quotaNames[i], Limit: lim, Used: used[i],
				Remaining: max(lim-used[i], 0), Resets: c.resets(i)})
		}
	}
	return out
}

// exceeded is the first quota of q that leaves no room for one more
// request, or -1. Request quotas admit while used+1 <= limit; the bytes
// quota admits while used < limit, for a response's size is not known
// before it is sent, so the response that crosses the quota is served whole.
func exceeded(q Quota, used [nQuotas]int64) int {
	for i, lim := range quotaLimits(q) {
		if lim > 0 && used[i] >= lim {
			return i
		}
	}
	return -1
}

// quotaKind is the Redis key part of each quota: "d", "m" or "mb".
var quotaKind = [nQuotas]string{"d", "m", "mb"}

// quotaKey is quota i's Redis key for name in its window, e.g.
// corsbridge:rl:{key:team}:d:20261202, under the hash tag of the key's rate
// counter so that one script call reaches all of them in a Redis Cluster.
func quotaKey(name string, i, period int) string {
	b := make([]byte, 0, len(keyPrefix)+len(name)+24)
	b = append(b, keyPrefix...)
	b = append(b, "{key:"...)
	b = append(b, name...)
	b = append(b, "}:"...)
	b = append(b, quotaKind[i]...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(period), 10)
	return string(b)
}

// quotaGrace is how long a quota counter outlives its window in Redis, so a
// clock a little behind on one instance still finds the count.
const quotaGrace = time.Hour

// quotaCounter counts quotas in memory: without Redis, and while it is
// unavailable. It is exact within the instance: check, the rate limit and
// the count happen under one lock. Counters of ended windows are dropped
// when the day changes.
type quotaCounter struct {
	mu     sync.Mutex
	counts map[quotaSlot]int64
	day    int // the latest day counted: windows before it are pruned
}

type quotaSlot struct {
	name   string
	i      int // qDaily, qMonthly or qBytes
	period int
}

// read returns name's counts in c's windows; the caller holds mu.
func (qc *quotaCounter) read(name string, q Quota, c calendar) [nQuotas]int64 {
	var used [nQuotas]int64
	for i, lim := range quotaLimits(q) {
		if lim > 0 {
			used[i] = qc.counts[quotaSlot{name, i, c.period(i)}]
		}
	}
	return used
}

// take admits one request for name if its quotas and then its rate (take,
// nil for none) leave room, and counts it against both. A refused request
// counts against nothing. It returns the counts (after this request when
// allowed), the refusing quota or -1, and the rate's decision.
func (qc *quotaCounter) take(name string, q Quota, c calendar, take func(count bool) Decision) (used [nQuotas]int64, refused int, d Decision) {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	qc.prune(c)
	used = qc.read(name, q, c)
	if refused = exceeded(q, used); refused >= 0 {
		if take != nil {
			d = take(false)
		}
		return used, refused, d
	}
	if take != nil {
		if d = take(true); !d.Allowed {
			return used, -1, d
		}
	}
	for i := range qBytes {
		if quotaLimits(q)[i] > 0 {
			used[i]++
			qc.counts[quotaSlot{name, i, c.period(i)}] = used[i]
		}
	}
	return used, -1, d
}

// addBytes counts n response bytes for name in month. It leaves pruning to
// take, which every response's request went through first.
func (qc *quotaCounter) addBytes(name string, month int, n int64) {
	qc.mu.Lock()
	if qc.counts == nil {
		qc.counts = make(map[quotaSlot]int64)
	}
	qc.counts[quotaSlot{name, qBytes, month}] += n
	qc.mu.Unlock()
}

// status reads name's counts without counting.
func (qc *quotaCounter) status(name string, q Quota, c calendar) [nQuotas]int64 {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	return qc.read(name, q, c)
}

// prune drops the counters of windows other than c's when the day has
// changed since the last count; the caller holds mu.
func (qc *quotaCounter) prune(c calendar) {
	if qc.counts == nil {
		qc.counts = make(map[quotaSlot]int64)
	}
	if c.day <= qc.day { // a request that read the clock before midnight
		return
	}
	qc.day = c.day
	for s := range qc.counts {
		if s.period != c.period(s.i) {
			delete(qc.counts, s)
		}
	}
}
