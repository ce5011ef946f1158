package ratelimit

import (
	"fmt"
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
		c := newLocalCounter()
		l := Limit{Requests: 10, Window: time.Minute}
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

func TestLocalCounterSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newLocalCounter()
		l := Limit{Requests: 10, Window: time.Second}
		for i := range 1000 {
			c.take(fmt.Sprint("k", i), time.Now(), l)
		}
		time.Sleep(3 * time.Second)
		for i := range localShards * 8 { // touch every shard
			c.take(fmt.Sprint("other", i), time.Now(), l)
		}
		n := 0
		for i := range c.shards {
			n += len(c.shards[i].m)
		}
		if n != localShards*8 {
			t.Fatalf("%d keys kept, want only the %d fresh ones", n, localShards*8)
		}
	})
}

func TestLocalCounterConcurrent(t *testing.T) {
	c := newLocalCounter()
	l := Limit{Requests: 500, Window: time.Hour}
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
