package rate

import (
	"fmt"
	"time"
)

// MaxQuota bounds each number of a Quota. It keeps counts exact in the Redis
// Lua script, whose numbers are float64 (exact below 2^53), with room for the
// bytes of one response that crosses a bytes quota.
const MaxQuota = 1 << 50

// Quota is what an access key or signed token may use per UTC calendar
// window, on top of its per-window rate: requests per UTC day, requests per
// UTC calendar month, and response body bytes per UTC calendar month. A zero
// field is that quota off; the zero Quota is off altogether.
type Quota struct {
	Daily        int64
	Monthly      int64
	MonthlyBytes int64
}

// Off reports whether every quota is off.
func (q Quota) Off() bool { return q == Quota{} }

// Validate reports a quota below 0 or above MaxQuota.
func (q Quota) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{{"daily", q.Daily}, {"monthly", q.Monthly}, {"monthly bytes", q.MonthlyBytes}} {
		if f.v < 0 || f.v > MaxQuota {
			return fmt.Errorf("rate: %s quota %d is out of range 0..%d (0 is off)", f.name, f.v, int64(MaxQuota))
		}
	}
	return nil
}

// DayStart and MonthStart are the UTC calendar windows t falls in, and
// NextDay and NextMonth where they end: quotas reset at midnight UTC and on
// the first of the month, on every instance alike.
func DayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func NextDay(t time.Time) time.Time { return DayStart(t).AddDate(0, 0, 1) }

func MonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

func NextMonth(t time.Time) time.Time { return MonthStart(t).AddDate(0, 1, 0) }
