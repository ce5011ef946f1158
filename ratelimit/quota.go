package ratelimit

import (
	"strconv"
	"sync/atomic"
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
// (20261202, 202612), which name the counters, and where they start and
// end. It is immutable once made.
type calendar struct {
	day, month         int
	dayStart           time.Time
	nextDay, nextMonth time.Time
	monthDays          int
}

// calendarAt works out now's calendar with package rate's windows, the
// ones its Quota documents.
func calendarAt(now time.Time) *calendar {
	c := &calendar{dayStart: rate.DayStart(now), nextDay: rate.NextDay(now), nextMonth: rate.NextMonth(now)}
	y, m, d := c.dayStart.Date()
	c.day, c.month = y*10000+int(m)*100+d, y*100+int(m)
	c.monthDays = int(c.nextMonth.Sub(rate.MonthStart(now)) / (24 * time.Hour))
	return c
}

// holds reports whether now falls on c's day.
func (c *calendar) holds(now time.Time) bool {
	return !now.Before(c.dayStart) && now.Before(c.nextDay)
}

// calendars keeps the calendar of the latest day asked for, so the hot
// path works out a day and a month once a day rather than per request.
type calendars struct{ last atomic.Pointer[calendar] }

func (cs *calendars) at(now time.Time) *calendar {
	if c := cs.last.Load(); c != nil && c.holds(now) {
		return c
	}
	c := calendarAt(now)
	cs.last.Store(c)
	return c
}

// period and resets are quota i's window number and end.
func (c *calendar) period(i int) int {
	if i == qDaily {
		return c.day
	}
	return c.month
}

func (c *calendar) resets(i int) time.Time {
	if i == qDaily {
		return c.nextDay
	}
	return c.nextMonth
}

// uses reports the quotas of q that are on, from the counts used.
func (c *calendar) uses(q Quota, used [nQuotas]int64, out []QuotaUse) []QuotaUse {
	for i, lim := range quotaLimits(q) {
		if lim > 0 {
			out = append(out, c.use(i, lim, used[i]))
		}
	}
	return out
}

// use is quota i's state with limit lim and used counted.
func (c *calendar) use(i int, lim, used int64) QuotaUse {
	return QuotaUse{Name: quotaNames[i], Limit: lim, Used: used, Remaining: max(lim-used, 0), Resets: c.resets(i)}
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
