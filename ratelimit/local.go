package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"
)

// localShards spreads keys over independently locked maps, so concurrent
// requests for different keys rarely contend (httprate's local counter and its
// RateLimiter hold one mutex for every request of the process).
const localShards = 64

// localCounter is the in-process counter: the primary one without Redis, the
// fallback with it. Each key keeps its own current and previous window, rolled
// on access; a shard drops keys idle for two windows once per window.
type localCounter struct {
	seed   maphash.Seed
	shards [localShards]localShard
}

type localShard struct {
	mu    sync.Mutex
	m     map[string]localEntry
	swept int64 // window index of the last sweep
	_     [40]byte
}

type localEntry struct {
	idx        int64 // window index of curr
	curr, prev int64
}

func newLocalCounter() *localCounter {
	c := &localCounter{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]localEntry)
	}
	return c
}

// take counts one request for key at now against l when it fits. Unlike
// RedisCounter it cannot fail. A counter is used with one window length.
func (c *localCounter) take(key string, now time.Time, l Limit) Decision {
	idx, elapsed := window(now, l.Window)
	s := &c.shards[maphash.String(c.seed, key)%localShards]

	s.mu.Lock()
	if s.swept != idx {
		s.sweep(idx)
	}
	e := s.m[key]
	switch e.idx {
	case idx:
	case idx - 1:
		e = localEntry{idx: idx, prev: e.curr}
	default:
		e = localEntry{idx: idx}
	}
	ok := allows(l, e.curr, e.prev, elapsed)
	if ok {
		e.curr++
		s.m[key] = e
	}
	curr, prev := e.curr, e.prev
	s.mu.Unlock()

	return decide(l, ok, curr, prev, idx, elapsed)
}

// sweep deletes entries that no longer affect any decision at window idx.
func (s *localShard) sweep(idx int64) {
	for k, e := range s.m {
		if e.idx < idx-1 {
			delete(s.m, k)
		}
	}
	s.swept = idx
}
