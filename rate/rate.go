// Package rate is the one value type of a request rate, "N per window", and
// its text form. It is its own leaf so that the packages that only carry a
// rate (access keys and tokens) and the one that enforces it (ratelimit) agree
// on one grammar without importing each other.
package rate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of a Limit. They keep the sliding-window arithmetic exact in integer
// milliseconds, in Go and in the Redis Lua script (whose numbers are float64).
const (
	MaxRequests = 1_000_000
	MinWindow   = time.Second
	MaxWindow   = 24 * time.Hour
)

// Limit is a number of requests per window. The zero Limit (Requests == 0)
// means the limit is off.
type Limit struct {
	Requests int
	Window   time.Duration
}

// Off reports whether the limit is disabled.
func (l Limit) Off() bool { return l.Requests == 0 }

// Validate reports whether l is off or within MaxRequests, MinWindow and
// MaxWindow, with a window of whole seconds.
func (l Limit) Validate() error {
	if l.Requests == 0 {
		return nil
	}
	switch {
	case l.Requests < 0 || l.Requests > MaxRequests:
		return fmt.Errorf("rate: %d requests per window is out of range 1..%d", l.Requests, MaxRequests)
	case l.Window < MinWindow || l.Window > MaxWindow:
		return fmt.Errorf("rate: window %v is out of range %v..%v", l.Window, MinWindow, MaxWindow)
	case l.Window%time.Second != 0:
		return fmt.Errorf("rate: window %v is not a whole number of seconds", l.Window)
	}
	return nil
}

// String formats l so that ParseLimit reads it back: "off", "60/1m", "90/90s",
// "1000/1h". The window is written in the largest unit that divides it.
func (l Limit) String() string {
	if l.Requests == 0 {
		return "off"
	}
	var w string
	switch d := l.Window; {
	case d > 0 && d%time.Hour == 0:
		w = strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		w = strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d > 0 && d%time.Second == 0:
		w = strconv.FormatInt(int64(d/time.Second), 10) + "s"
	default:
		w = d.String() // not a valid window; shown as is
	}
	return strconv.Itoa(l.Requests) + "/" + w
}

// ParseLimit reads a limit as written in CORSBRIDGE_RATE_LIMIT and
// CORSBRIDGE_CLIENT_RATE_LIMIT: "off", or N/window where N is 1..MaxRequests
// and window is a bare unit ("5/s" is 5 a second) or whole numbers with the
// units h, m, s in that order ("60/1m", "10/30s", "1000/1h", "100/1h30m"),
// from 1s to 24h. Surrounding spaces and the case of "off" are ignored;
// anything else (signs, fractions, ms, spaces inside, "0/1m") is an error
// that says what was expected.
func Parse(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Limit{}, nil
	}
	bad := func(why string) (Limit, error) {
		return Limit{}, fmt.Errorf("rate: invalid limit %q: %s (want N/window like %q, %q, %q, or \"off\")",
			s, why, "60/1m", "10/30s", "5/s")
	}
	if s == "" {
		return bad("empty")
	}
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no '/'")
	}
	reqs, ok := parseDigits(n, MaxRequests)
	switch {
	case !ok:
		return bad(fmt.Sprintf("request count must be a whole number from 1 to %d", MaxRequests))
	case reqs == 0:
		return bad("0 requests; write \"off\" to disable")
	}
	window, err := parseWindow(w)
	if err != nil {
		return bad(err.Error())
	}
	return Limit{Requests: reqs, Window: window}, nil
}

// parseWindow reads "s", "m", "h" or a sequence like "1h30m", "90s".
func parseWindow(s string) (time.Duration, error) {
	switch s {
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	case "":
		return 0, errors.New("empty window")
	}
	units := []struct {
		name byte
		d    time.Duration
	}{{'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || strings.IndexByte("hms", rest[i]) < 0 {
			return 0, fmt.Errorf("window %q: want whole numbers followed by h, m or s", s)
		}
		v, ok := parseDigits(rest[:i], int(MaxWindow/time.Second))
		if !ok {
			return 0, fmt.Errorf("window %q is longer than %v", s, MaxWindow)
		}
		for len(units) > 0 && units[0].name != rest[i] {
			units = units[1:]
		}
		if len(units) == 0 {
			return 0, fmt.Errorf("window %q: units must be h, m, s, each at most once, in that order", s)
		}
		total += time.Duration(v) * units[0].d
		if total > MaxWindow {
			return 0, fmt.Errorf("window %q is longer than %v", s, MaxWindow)
		}
		units = units[1:]
		rest = rest[i+1:]
	}
	if total < MinWindow {
		return 0, fmt.Errorf("window %q is shorter than %v", s, MinWindow)
	}
	return total, nil
}

// parseDigits reads an unsigned decimal of at most max, ASCII digits only:
// strconv.Atoi alone would take signs.
func parseDigits(s string, max int) (int, bool) {
	if s == "" || len(s) > 10 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil && v <= max
}
