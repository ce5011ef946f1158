package ratelimit

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The fake clock of synctest starts at midnight UTC, 2000-01-01: the start
// of a window for every whole-minute window.

func TestLocalCounterWindowRollover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := Limit{Requests: 10, Window: time.Minute}
		c := newLocalCounter(l.Window)
		take := func() Decision { return c.take("k", time.Now(), l) }

		for i := range 10 {
			d := take()
			if !d.Allowed || d.Remaining != 9-i {
				t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, d, 9-i)
			}
		}
		d := take()
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("11th request: %+v, want refused", d)
		}
		// A full window later the previous window still weighs all 10; the
		// next slot frees once 1/10 of that window has passed.
		if want := time.Minute + 6*time.Second; d.RetryAfter != want {
			t.Fatalf("RetryAfter = %v, want %v", d.RetryAfter, want)
		}
		if want := time.Now().Add(time.Minute); !d.Reset.Equal(want) {
			t.Fatalf("Reset = %v, want %v", d.Reset, want)
		}

		time.Sleep(time.Minute) // next window: 10 previous at full weight
		if d := take(); d.Allowed {
			t.Fatalf("at the rollover: %+v, want refused (previous window weighs 10)", d)
		}
		time.Sleep(6 * time.Second) // previous weighs 9: one slot
		if d := take(); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("6s into the window: %+v, want allowed, 0 remaining", d)
		}
		if d := take(); d.Allowed || d.RetryAfter != 6*time.Second {
			t.Fatalf("second request 6s into the window: %+v, want refused for 6s", d)
		}
		time.Sleep(2 * time.Minute) // both windows gone
		for i := range 10 {
			if d := take(); !d.Allowed {
				t.Fatalf("two windows later, request %d refused: %+v", i+1, d)
			}
		}
	})
}

// TestLocalCounterLateRequest: a request whose clock reading is from the
// window before the latest one counted (it read the clock, then waited for
// the lock) counts in the latest window; it neither escapes the limit nor
// wipes the counts of its shard, as a jump back would in httprate's counter.
func TestLocalCounterLateRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := Limit{Requests: 10, Window: time.Minute}
		c := newLocalCounter(l.Window)
		shard := func(k string) uint64 { return maphash.String(c.seed, k) % localShards }
		neighbour := "b"
		for i := 0; shard(neighbour) != shard("a"); i++ {
			neighbour = fmt.Sprint("b", i)
		}
		time.Sleep(time.Minute) // the start of a window, nothing before it
		for i := range 10 {
			if d := c.take("a", time.Now(), l); !d.Allowed {
				t.Fatalf("request %d refused: %+v", i+1, d)
			}
		}
		late := time.Now().Add(-time.Millisecond)
		if d := c.take("a", late, l); d.Allowed {
			t.Fatalf("a late request escaped the limit: %+v", d)
		}
		if d := c.take(neighbour, late, l); !d.Allowed || d.Remaining != 9 {
			t.Fatalf("a late request of another key: %+v, want allowed, 9 remaining", d)
		}
		if d := c.take("a", time.Now(), l); d.Allowed {
			t.Fatalf("after late requests in its shard, the full key is allowed: %+v", d)
		}
	})
}

// TestLocalCountersPerWindow: key limits of different windows count apart,
// each in the counter of its window length.
func TestLocalCountersPerWindow(t *testing.T) {
	var cs localCounters
	minute, hour := cs.forWindow(time.Minute), cs.forWindow(time.Hour)
	if minute == hour || cs.forWindow(time.Minute) != minute {
		t.Fatal("one counter per window length, made once")
	}
	now := time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC)
	perMinute, perHour := Limit{Requests: 2, Window: time.Minute}, Limit{Requests: 3, Window: time.Hour}
	for i, want := range []bool{true, true, false} {
		if d := cs.forWindow(time.Minute).take("key:k", now, perMinute); d.Allowed != want {
			t.Fatalf("per minute, request %d: %+v", i+1, d)
		}
	}
	for i, want := range []bool{true, true, true, false} {
		if d := cs.forWindow(time.Hour).take("key:k", now, perHour); d.Allowed != want {
			t.Fatalf("per hour, request %d: %+v", i+1, d)
		}
	}
}

func TestLocalCounterConcurrent(t *testing.T) {
	l := Limit{Requests: 500, Window: time.Hour}
	c := newLocalCounter(l.Window)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var allowed [3]atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 300 {
				k := (g + i) % 3
				if c.take(fmt.Sprint("key", k), now, l).Allowed {
					allowed[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if n := allowed[k].Load(); n != 500 {
			t.Errorf("key%d: %d allowed, want exactly 500", k, n)
		}
	}
}

func TestDecide(t *testing.T) {
	l := Limit{Requests: 10, Window: 60 * time.Second}
	tests := []struct {
		name          string
		curr, prev    int64
		elapsed       time.Duration
		wantAllowed   bool
		wantRemaining int
		wantRetry     time.Duration
	}{
		{name: "empty", wantAllowed: true, wantRemaining: 9},
		{name: "last slot", curr: 9, wantAllowed: true, wantRemaining: 0},
		{name: "full", curr: 10, wantRetry: 66 * time.Second},
		{name: "full late in window", curr: 10, elapsed: 50 * time.Second, wantRetry: 16 * time.Second},
		{name: "previous weighs", prev: 10, elapsed: 30 * time.Second, wantAllowed: true, wantRemaining: 4},
		{name: "previous full weight", prev: 10, wantRetry: 6 * time.Second},
		{name: "previous and current", curr: 5, prev: 10, elapsed: 30 * time.Second, wantRetry: 6 * time.Second},
		{name: "limit one", curr: 1, wantRetry: 120 * time.Second},
		{name: "sub-second wait rounds up", prev: 10, elapsed: 5900 * time.Millisecond, wantRetry: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := l
			if tt.name == "limit one" {
				lim.Requests = 1
			}
			e := tt.elapsed.Milliseconds()
			ok := allows(lim, tt.curr, tt.prev, e)
			curr := tt.curr
			if ok {
				curr++
			}
			d := decide(lim, ok, curr, tt.prev, 100, e)
			if d.Allowed != tt.wantAllowed || d.Remaining != tt.wantRemaining || d.RetryAfter != tt.wantRetry {
				t.Fatalf("got allowed %v remaining %d retry %v; want %v %d %v",
					d.Allowed, d.Remaining, d.RetryAfter, tt.wantAllowed, tt.wantRemaining, tt.wantRetry)
			}
			if want := time.Unix(101*60, 0); !d.Reset.Equal(want) {
				t.Fatalf("Reset = %v, want %v", d.Reset, want)
			}
		})
	}
}
