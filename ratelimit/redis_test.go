package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/httprate"
)

// takeModes are the two ways RedisCounter.Take talks to Redis.
var takeModes = []struct {
	name     string
	pipeline bool
}{{"lua", false}, {"pipeline", true}}

// TestRedisCounterMatchesLocal replays one sequence of requests, across
// window rollovers, on the local counter and on Redis: every decision must be
// the same.
func TestRedisCounterMatchesLocal(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	l := Limit{Requests: 5, Window: 10 * time.Second}
	base := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) // a window start
	// Offsets of requests: a burst, refusals, rollover with the previous
	// window weighing, a gap of two windows.
	var offsets []time.Duration
	for i := range 8 {
		offsets = append(offsets, time.Duration(i)*100*time.Millisecond)
	}
	for _, s := range []float64{9.9, 10, 10.5, 11, 11.5, 12, 13, 14, 15, 19.99, 20, 20, 20, 21, 45, 45, 45} {
		offsets = append(offsets, time.Duration(s*float64(time.Second)))
	}
	for _, mode := range takeModes {
		t.Run(mode.name, func(t *testing.T) {
			rc := NewRedisCounter(rdb)
			rc.pipeline = mode.pipeline
			lc := newLocalCounter(l.Window)
			key := uniqueKey("match")
			for i, off := range offsets {
				now := base.Add(off)
				want := lc.take(key, now, l)
				got, err := rc.Take(context.Background(), key, now, l)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("request %d at +%v: redis %+v, local %+v", i, off, got, want)
				}
			}
		})
	}
}

func TestRedisCounterConcurrentTake(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	l := Limit{Requests: 100, Window: time.Hour}
	for _, mode := range takeModes {
		t.Run(mode.name, func(t *testing.T) {
			// Two counters stand for two instances.
			counters := []*RedisCounter{NewRedisCounter(rdb), NewRedisCounter(rdb)}
			for _, c := range counters {
				c.pipeline = mode.pipeline
			}
			key := uniqueKey("concurrent")
			now := time.Now()
			var allowed, refused atomic.Int64
			var wg sync.WaitGroup
			for g := range 20 {
				wg.Go(func() {
					for range 15 {
						d, err := counters[g%2].Take(context.Background(), key, now, l)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							allowed.Add(1)
						} else {
							refused.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if allowed.Load() != 100 || refused.Load() != 200 {
				t.Fatalf("allowed %d, refused %d; want exactly 100 and 200", allowed.Load(), refused.Load())
			}
			idx, _ := window(now, l.Window)
			if n, err := rdb.Get(context.Background(), counterKey(key, l.Window, idx)).Int(); err != nil || n != 100 {
				t.Fatalf("stored count %d, %v; want 100 (refusals are not counted)", n, err)
			}
		})
	}
}

func TestRedisCounterKeys(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	ctx := context.Background()
	rc := NewRedisCounter(rdb)
	key := uniqueKey("origin:keys.example")
	now := time.Now()
	l := Limit{Requests: 3, Window: time.Minute}
	if _, err := rc.Take(ctx, key, now, l); err != nil {
		t.Fatal(err)
	}
	idx, _ := window(now, time.Minute)
	k := counterKey(key, time.Minute, idx)
	if want := "corsbridge:rl:{" + key + "}:60s:"; k[:len(want)] != want {
		t.Fatalf("key %q, want prefix %q", k, want)
	}
	ttl, err := rdb.PTTL(ctx, k).Result()
	if err != nil || ttl <= 2*time.Minute || ttl > 2*time.Minute+time.Second {
		t.Fatalf("TTL of %s = %v, %v; want two windows and a second", k, ttl, err)
	}

	// A flushed script cache (a restarted or failed-over Redis) costs one
	// EVAL, not an error.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	d, err := rc.Take(ctx, key, now, l)
	if err != nil || !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after SCRIPT FLUSH: %+v, %v; want allowed, 1 remaining", d, err)
	}
}

// TestRedisCounterAsHTTPRateCounter plugs RedisCounter into httprate's own
// limiter through the LimitCounter interface.
func TestRedisCounterAsHTTPRateCounter(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	key := uniqueKey("httprate")
	// Two limiters sharing Redis stand for two instances.
	var handlers []http.Handler
	for range 2 {
		rl := httprate.NewRateLimiter(4, time.Minute,
			httprate.WithLimitCounter(NewRedisCounter(rdb)),
			httprate.WithKeyFuncs(func(*http.Request) (string, error) { return key, nil }))
		handlers = append(handlers, rl.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	}
	var codes []int
	for i := range 6 {
		rec := httptest.NewRecorder()
		handlers[i%2].ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		codes = append(codes, rec.Code)
	}
	want := []int{200, 200, 200, 200, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v, want %v", codes, want)
		}
	}
}

func TestRedisCounterLimitCounterMethods(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	rc := NewRedisCounter(rdb)
	key := uniqueKey("methods")
	cur := time.Now().UTC().Truncate(time.Minute)
	prev := cur.Add(-time.Minute)

	if err := rc.Increment(key, cur); err == nil {
		t.Fatal("Increment before Config succeeded, want error")
	}
	rc.Config(10, time.Minute)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if err := rc.Increment(key, cur); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := rc.IncrementBy(key, prev, 7); err != nil {
		t.Fatal(err)
	}
	c, p, err := rc.Get(key, cur, prev)
	if err != nil || c != 200 || p != 7 {
		t.Fatalf("Get = %d, %d, %v; want 200, 7", c, p, err)
	}
	c, p, err = rc.Get(uniqueKey("none"), cur, prev)
	if err != nil || c != 0 || p != 0 {
		t.Fatalf("Get of a new key = %d, %d, %v; want 0, 0", c, p, err)
	}
}
