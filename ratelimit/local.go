package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// localShards spreads keys over independently locked counters, so
// concurrent requests for different keys rarely contend (httprate's
// RateLimiter holds one mutex for every request of the process).
const localShards = 64

// localCounter is the in-process counter of one window length: the primary
// one without Redis, the fallback with it. The counts live in httprate's
// in-memory LimitCounter, one per shard, which keeps the current and the
// previous window and drops older ones as windows pass.
//
// Counting is exact within the process for the reason httprate's
// RateLimiter is: a lock held from Get to IncrementBy, here the shard's. The
// RateLimiter itself is not used, for the counting around the seam must be
// the Redis script's, decision for decision, since this is also the
// fallback when Redis fails: the RateLimiter reads the clock itself (we are
// given now), rounds the estimated rate to a whole number (the script and
// allows compare in integer milliseconds), aligns its own in-memory windows
// to its start instead of the epoch, and answers only limited-or-not,
// through headers written to a ResponseWriter (we report Remaining, Reset
// and Retry-After in a Decision).
type localCounter struct {
	seed   maphash.Seed
	shards [localShards]localShard
}

type localShard struct {
	mu      sync.Mutex
	counter httprate.LimitCounter
	idx     int64 // the latest window index counted in this shard
	_       [40]byte
}

func newLocalCounter(window time.Duration) *localCounter {
	c := &localCounter{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].counter = httprate.NewLocalLimitCounter(window)
	}
	return c
}

// take counts one request for key at now against l when it fits. Unlike
// RedisCounter it cannot fail. l.Window must be the counter's window.
func (c *localCounter) take(key string, now time.Time, l Limit) Decision {
	return c.decide(key, now, l, true)
}

// decide is take, or with count false only the decision take would make,
// counting nothing: the key's rate shown on a refusal by one of its quotas.
func (c *localCounter) decide(key string, now time.Time, l Limit, count bool) Decision {
	idx, elapsed := window(now, l.Window)
	s := &c.shards[maphash.String(c.seed, key)%localShards]
	s.mu.Lock()
	// A request that read the clock just before a window began may get
	// here after one counted in the new window. httprate's counter would
	// take the older window for a jump back and drop every count of the
	// shard, so such a request counts at the start of the latest window.
	if idx < s.idx {
		idx, elapsed = s.idx, 0
	}
	s.idx = idx
	wms := l.Window.Milliseconds()
	curWin := time.UnixMilli(idx * wms)
	// The in-memory counter never fails ("guaranteed to always return nil").
	curr, prev, _ := s.counter.Get(key, curWin, time.UnixMilli((idx-1)*wms))
	ok := allows(l, int64(curr), int64(prev), elapsed)
	if ok && count {
		_ = s.counter.IncrementBy(key, curWin, 1)
		curr++
	}
	s.mu.Unlock()
	return decide(l, ok, int64(curr), int64(prev), idx, elapsed)
}

// localCounters are the in-process counters of limits whose window is only
// known per request (access keys carry their own), one per window length:
// httprate's counter keeps the windows of one length.
type localCounters struct {
	mu sync.RWMutex
	m  map[time.Duration]*localCounter
}

// forWindow returns the counter of window length w, made on first use.
// Window lengths come from the configured keys, so there are few.
func (c *localCounters) forWindow(w time.Duration) *localCounter {
	c.mu.RLock()
	lc := c.m[w]
	c.mu.RUnlock()
	if lc != nil {
		return lc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc = c.m[w]; lc == nil {
		if c.m == nil {
			c.m = make(map[time.Duration]*localCounter)
		}
		lc = newLocalCounter(w)
		c.m[w] = lc
	}
	return lc
}
