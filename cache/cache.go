package cache

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options are the cache's dependencies.
type Options struct {
	// Redis, when set, is the tier shared between instances.
	Redis redis.UniversalClient
	// Dropped reports request headers the proxy does not forward: they
	// cannot change the upstream's answer, so they are not part of the key.
	Dropped func(name string) bool
	// Logger receives what operators need (a purge); never a URL's query.
	Logger *slog.Logger
	// Now is the clock for ages and freshness; time.Now when nil. Tests
	// move it forward instead of sleeping.
	Now func() time.Time
	// Expose, when set, is the Access-Control-Expose-Headers value for a
	// response carrying the named headers (names is the callee's to
	// reorder). The cache works it out once per stored response, not per
	// hit, and adds it to every answer it gives.
	Expose func(names []string) string
}

// Cache is the shared HTTP cache. Its methods are safe for concurrent use.
type Cache struct {
	cfg     Config
	dropped func(string) bool
	expose  func([]string) string
	logger  *slog.Logger
	now     func() time.Time
	mem     *memoryTier
	redis   *redisTier
	flights flights
	stats   counters
}

// New builds a cache from a validated configuration.
func New(cfg Config, opts Options) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{cfg: cfg, dropped: opts.Dropped, expose: opts.Expose, logger: opts.Logger, now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.mem = newMemoryTier(cfg.Size, &c.stats.evictions)
	if opts.Redis != nil {
		c.redis = &redisTier{client: opts.Redis, prefix: cfg.RedisPrefix, timeout: cfg.RedisTimeout, errors: &c.stats.redisErrors}
	}
	c.flights.m = make(map[string]*flight)
	return c, nil
}

// Close stops the memory tier's maintenance goroutine.
func (c *Cache) Close() { c.mem.close() }

// State names the cache's backing for /readyz and the landing page:
// "memory", "redis" (memory in front of a shared Redis) or "degraded"
// (Redis failed within the last second; the cache serves from memory).
func (c *Cache) State() string {
	switch {
	case c.redis == nil:
		return "memory"
	case !c.redis.available():
		return "degraded"
	}
	return "redis"
}

// Tier names, as Stats reports them.
const (
	TierMemory = "memory"
	TierRedis  = "redis"
)

// get finds an entry in memory, then in Redis; a Redis hit is kept in
// memory for a moment (LocalTTL) so hot entries skip the round trip.
func (c *Cache) get(ctx context.Context, key string) (*entry, string) {
	if e, ok := c.mem.get(key); ok {
		return e, TierMemory
	}
	if c.redis == nil {
		return nil, ""
	}
	e, ok := c.redis.get(ctx, key)
	if !ok {
		return nil, ""
	}
	if keep := min(e.fresh.keepFor(c.now()), c.cfg.LocalTTL); keep > 0 {
		c.seal(e)
		c.mem.set(key, e, keep)
	}
	return e, TierRedis
}

// put stores an entry in every tier for as long as it is worth keeping.
func (c *Cache) put(ctx context.Context, key string, e *entry) {
	keep := e.fresh.keepFor(c.now())
	if keep <= 0 {
		return
	}
	c.seal(e)
	local := keep
	if c.redis != nil {
		local = min(keep, c.cfg.LocalTTL)
	}
	if local > 0 {
		c.mem.set(key, e, local)
		c.stats.bytesStored[tierIndex(TierMemory)].Add(uint64(len(e.body)))
	}
	if c.redis != nil {
		c.redis.set(ctx, key, e, keep)
		c.stats.bytesStored[tierIndex(TierRedis)].Add(uint64(len(e.body)))
	}
}

// seal works out, once per entry, what every hit on it sends: its
// Content-Length and its expose list (formatting and sorting them per hit
// was 2.5 % of a hit's CPU). It runs before the entry is shared: put calls
// it, and get on what it read from Redis and keeps in memory; a hit on an
// entry not sealed works them out itself.
func (c *Cache) seal(e *entry) {
	if e.index || e.pass {
		return
	}
	e.length = []string{strconv.Itoa(len(e.body))}
	if c.expose != nil {
		full := Response{e: e, perHit: [2]string{"0", CacheName}, setLength: hasLength(e.status)}
		e.expose = c.exposeList(&full)
	}
}

// exposeList is Options.Expose's answer for r's headers, as the one-element
// slice Write puts in the header map. c.expose must be set.
func (c *Cache) exposeList(r *Response) []string {
	// Sized: a stack array would move to the heap anyway, since c.expose
	// is a func value the compiler cannot see into.
	return []string{c.expose(r.AppendNames(make([]string, 0, len(r.e.header)+3)))}
}

// Purge drops every stored variant of one target URL (as the proxy
// canonicalises it), in memory and in Redis. Other instances' memory tiers
// let go of it within LocalTTL.
func (c *Cache) Purge(ctx context.Context, target string) (int, error) {
	return c.purge(ctx, urlKey(target))
}

// PurgeAll drops every entry.
func (c *Cache) PurgeAll(ctx context.Context) (int, error) { return c.purge(ctx, "") }

func (c *Cache) purge(ctx context.Context, prefix string) (int, error) {
	n := c.mem.purge(prefix)
	if c.redis == nil {
		return n, nil
	}
	r, err := c.redis.purge(ctx, prefix)
	return max(n, r), err
}

// PurgeRedis drops a target's entries (or all, when target is "") from a
// shared Redis without a running cache: what `corsbridge admin cache purge`
// calls.
func PurgeRedis(ctx context.Context, client redis.UniversalClient, prefix, target string) (int, error) {
	if client == nil {
		return 0, errors.New("cache: no Redis to purge")
	}
	r := &redisTier{client: client, prefix: prefix, errors: new(atomic.Uint64)}
	if target == "" {
		return r.purge(ctx, "")
	}
	return r.purge(ctx, urlKey(target))
}

// passTTL is how long a request whose answer was not storable skips
// coalescing. Without it, identical concurrent requests for an answer that
// is never storable (no-store, private) would each wait for the one before
// them and then fetch anyway: twice the latency. Varnish calls this
// hit-for-miss. A storable answer replaces the mark at once.
const passTTL = 10 * time.Second

// fwdPass is find's answer for a pass mark.
const fwdPass = "pass"

// markPass remembers, in this instance's memory, that key's last answer was
// not storable. Answers refused for their size are not marked: the next one
// may be smaller, and coalescing still saves a fetch then.
func (c *Cache) markPass(key, reason string) {
	if reason == reasonTooLarge {
		return
	}
	mark := &entry{pass: true, header: http.Header{}}
	mark.fresh.responseTime = c.now()
	c.mem.set(key, mark, passTTL)
}

// passRenewAfter is the age from which a pass mark is set again by a
// request that found it. A URL that is never storable (most API answers
// are no-store) would otherwise write a new mark to the memory tier on
// every request: an allocation and an otter write each time, 2 % of the
// proxy's CPU under load (docs/performance.md, issue 17, second session).
// Renewing at half the mark's life keeps it from ever lapsing under steady
// traffic.
const passRenewAfter = passTTL / 2
