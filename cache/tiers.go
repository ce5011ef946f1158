package cache

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"
)

// memoryTier holds entries in process, bounded by weight. otter, rather
// than ristretto: its Set is synchronous and exact (ristretto buffers sets
// and may drop them, so a response just stored could miss, which breaks
// coalescing's promise to waiters), it bounds by weight with a per-entry
// expiry, and its W-TinyLFU policy keeps hot entries under churn.
type memoryTier struct {
	c         *otter.Cache[string, memItem]
	evictions *atomic.Uint64
}

type memItem struct {
	e   *entry
	ttl time.Duration
}

func newMemoryTier(size int64, evictions *atomic.Uint64) *memoryTier {
	c := otter.Must(&otter.Options[string, memItem]{
		MaximumWeight:    uint64(size),
		Weigher:          func(_ string, v memItem) uint32 { return v.e.weight() },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memItem]) time.Duration { return e.Value.ttl }),
		OnAtomicDeletion: func(e otter.DeletionEvent[string, memItem]) {
			if e.Cause == otter.CauseOverflow {
				evictions.Add(1)
			}
		},
	})
	return &memoryTier{c: c, evictions: evictions}
}

func (m *memoryTier) get(key string) (*entry, bool) {
	v, ok := m.c.GetIfPresent(key)
	return v.e, ok
}

func (m *memoryTier) set(key string, e *entry, ttl time.Duration) {
	m.c.Set(key, memItem{e: e, ttl: ttl})
}

// purge drops every key starting with prefix ("" drops all). It walks the
// keys: purges are rare administrative acts.
func (m *memoryTier) purge(prefix string) int {
	if prefix == "" {
		n := m.c.EstimatedSize()
		m.c.InvalidateAll()
		return n
	}
	n := 0
	for k := range m.c.Keys() {
		if strings.HasPrefix(k, prefix) {
			if _, ok := m.c.Invalidate(k); ok {
				n++
			}
		}
	}
	return n
}

func (m *memoryTier) close() { m.c.StopAllGoroutines() }

// redisTier shares entries between instances. It never fails a request:
// an error or a slow answer is a miss, and after an error the tier steps
// aside for redisPause so an outage costs one timeout per second, not one
// per request.
type redisTier struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	errors  *atomic.Uint64
	// downUntil is when to try Redis again after an error (Unix nanos).
	downUntil atomic.Int64
}

const redisPause = time.Second

func (r *redisTier) available() bool { return time.Now().UnixNano() >= r.downUntil.Load() }

func (r *redisTier) failed(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	r.errors.Add(1)
	r.downUntil.Store(time.Now().Add(redisPause).UnixNano())
}

func (r *redisTier) get(ctx context.Context, key string) (*entry, bool) {
	if !r.available() {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	b, err := r.client.Get(ctx, r.prefix+key).Result()
	if err != nil {
		r.failed(err)
		return nil, false
	}
	e, err := decodeEntry(b)
	if err != nil {
		return nil, false
	}
	return e, true
}

func (r *redisTier) set(ctx context.Context, key string, e *entry, ttl time.Duration) {
	if !r.available() || ttl < time.Millisecond {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	r.failed(r.client.Set(ctx, r.prefix+key, e.encode(), ttl).Err())
}

// purge deletes every key of the cache that starts with prefix, on every
// master of a cluster.
func (r *redisTier) purge(ctx context.Context, prefix string) (int, error) {
	var n atomic.Int64
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, r.prefix+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			d, err := c.Unlink(ctx, iter.Val()).Result()
			if err != nil {
				return err
			}
			n.Add(d)
		}
		return iter.Err()
	}
	var err error
	if cc, ok := r.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, r.client)
	}
	return int(n.Load()), err
}
