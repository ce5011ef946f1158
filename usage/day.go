package usage

import (
	"time"
)

// Counts is one credential's use on one day. Requests counts every request
// recorded, refused ones included; Refused says how many of them were
// refused, by error code.
type Counts struct {
	Requests int64            `json:"requests"`
	Bytes    int64            `json:"bytes"`
	Refused  map[string]int64 `json:"refused,omitempty"`
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Requests += o.Requests
	c.Bytes += o.Bytes
	for code, n := range o.Refused {
		if c.Refused == nil {
			c.Refused = make(map[string]int64, len(o.Refused))
		}
		c.Refused[code] += n
	}
}

// Day is one day's figures for one name.
type Day struct {
	Date time.Time // midnight UTC
	Counts
}

// dayFormat names a day in storage: in Redis keys and the usage file.
const dayFormat = "20060102"

// date is a UTC day as the number yyyymmdd, its name in storage: ordered,
// and computed on the request path without an allocation.
type date int32

func dateOf(t time.Time) date {
	y, m, d := t.UTC().Date()
	return date(y*10000 + int(m)*100 + d)
}

// String is the day as YYYYMMDD, four digits of year included.
func (d date) String() string { return d.time().Format(dayFormat) }

func (d date) time() time.Time {
	return time.Date(int(d)/10000, time.Month(int(d)/100%100), int(d)%100, 0, 0, 0, 0, time.UTC)
}

// parseDate reads a day written YYYYMMDD, and only a real one.
func parseDate(s string) (date, bool) {
	t, err := time.Parse(dayFormat, s)
	if err != nil || t.Format(dayFormat) != s {
		return 0, false
	}
	return dateOf(t), true
}

// dayRange lists the days from first to last (UTC), inclusive, oldest first.
func dayRange(first, last time.Time) []date {
	d := midnight(first)
	end := midnight(last)
	var days []date
	for !d.After(end) {
		days = append(days, dateOf(d))
		d = d.AddDate(0, 0, 1)
	}
	return days
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// entry is one name on one day: the unit of the tally and of every store.
type entry struct {
	name string
	day  date
}

// tally is figures by entry.
type tally map[entry]*Counts

func (t tally) add(e entry, c Counts) {
	if have := t[e]; have != nil {
		have.Add(c)
		return
	}
	cp := Counts{}
	cp.Add(c)
	t[e] = &cp
}

// merge adds every entry of o to t, then drops t's days older than
// Retention before now: what a store does with a flushed tally.
func (t tally) merge(o tally, now time.Time) {
	for e, c := range o {
		t.add(e, *c)
	}
	oldest := dateOf(now.Add(-Retention))
	for e := range t {
		if e.day < oldest {
			delete(t, e)
		}
	}
}
