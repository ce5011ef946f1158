package cache

import "sync/atomic"

// counters are the cache's running totals. They are plain atomics so the
// package needs no metrics library; the server exports a Stats snapshot
// in whatever format it serves.
type counters struct {
	hits          [2]atomic.Uint64 // by tier: memory, redis
	misses        atomic.Uint64
	staleServed   atomic.Uint64
	revalidations atomic.Uint64
	coalesced     atomic.Uint64
	bytesStored   [2]atomic.Uint64 // by tier
	evictions     atomic.Uint64    // memory tier, for size
	redisErrors   atomic.Uint64
}

func tierIndex(tier string) int {
	if tier == TierRedis {
		return 1
	}
	return 0
}

// Stats is a snapshot of the cache's totals since it was built.
type Stats struct {
	// Hits are requests answered from the cache (a 304 to a client's
	// conditional request included), by the tier the entry came from.
	HitsMemory, HitsRedis uint64
	// Misses are lookups that went upstream without a usable entry.
	Misses uint64
	// StaleServed are stale entries served, while revalidating or on an
	// upstream error.
	StaleServed uint64
	// Revalidations are conditional requests sent upstream for an entry.
	Revalidations uint64
	// Coalesced are requests that waited for another's identical fetch.
	Coalesced uint64
	// BytesStored are body bytes written into each tier.
	BytesStoredMemory, BytesStoredRedis uint64
	// Evictions are memory-tier entries dropped for room. Redis evicts on
	// its own (maxmemory) and reports it in INFO stats.
	Evictions uint64
	// RedisErrors are failed or timed-out Redis calls, each a miss.
	RedisErrors uint64
}

// Stats returns the totals so far.
func (c *Cache) Stats() Stats {
	s := &c.stats
	return Stats{
		HitsMemory:        s.hits[0].Load(),
		HitsRedis:         s.hits[1].Load(),
		Misses:            s.misses.Load(),
		StaleServed:       s.staleServed.Load(),
		Revalidations:     s.revalidations.Load(),
		Coalesced:         s.coalesced.Load(),
		BytesStoredMemory: s.bytesStored[0].Load(),
		BytesStoredRedis:  s.bytesStored[1].Load(),
		Evictions:         s.evictions.Load(),
		RedisErrors:       s.redisErrors.Load(),
	}
}
