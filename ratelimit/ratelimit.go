// Package ratelimit limits requests per origin and per client IP, in memory
// or shared between instances through Redis.
//
// A public CORS proxy is an open relay for every page on the web; without
// limits one busy or hostile site uses up the proxy (and its reputation with
// upstream APIs) for everyone. The per-origin limit keeps one site's pages
// within a fair share; since any non-browser client can send any Origin, a
// per-client-IP limit is stacked on it.
//
// Counting is a sliding-window estimate over epoch-aligned windows (see
// Decision), done in one atomic step: a Lua script in Redis that counts all
// of a request's limits in one round trip, or httprate's in-memory
// LimitCounter, sharded, each shard locked from count to check (see
// localCounter). Neither path holds a process-wide lock.
package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Status values, for /readyz.
const (
	StatusNotConfigured = "not_configured" // no Redis: in-memory counters
	StatusHealthy       = "healthy"        // Redis answers
	StatusDegraded      = "degraded"       // Redis unavailable: fallback (or 503 with FailClosed)
)

// Backend values, for the request log.
const (
	BackendOff      = "off"      // no limit configured
	BackendLocal    = "local"    // in-memory counters, no Redis configured
	BackendRedis    = "redis"    // shared counters in Redis
	BackendFallback = "fallback" // Redis configured but unavailable
)

// Names of the two limits, as OnRefused reports them.
const (
	LimitOrigin = "origin"
	LimitClient = "client"
)

// Limiter enforces a Config. Create it with New, stop it with Close.
type Limiter struct {
	origin, client *rule         // nil when that limit is off
	keyLocal       localCounters // per-key counts without Redis or while it is down
	quotas         quotaCounter  // per-key quotas without Redis or while it is down
	calendars      calendars     // the UTC day and month quotas count in
	keyPolicies    policies      // RateLimit-Policy per key rate and quotas
	anonPolicies   [3]string     // RateLimit-Policy: client, origin, both
	originKey      func(string) string
	exempt         func(string) bool
	inFlight       *inFlight // requests in flight, always per instance
	clientConc     int       // 0: no cap
	originConc     int
	trustedHeader  string
	failClosed     bool
	onLimited      http.HandlerFunc
	onUnavailable  http.HandlerFunc
	onRefused      func(*http.Request, string)
	log            *slog.Logger

	// With Redis only.
	rdb       redis.UniversalClient
	ownsRDB   bool
	counter   *RedisCounter
	degraded  atomic.Bool
	closed    atomic.Bool
	stopProbe context.CancelFunc
	probeDone chan struct{}
	bytes     bytesBatch // response bytes not yet flushed to Redis
	flushDone chan struct{}
	closeOnce sync.Once
}

// Prefixes of the origin and client limits' counter keys (their rules'
// names), and of the keys their caps in flight are held under.
const (
	originPrefix = "origin:"
	clientPrefix = "client:"
)

// rule is one configured limit with its in-memory counter (primary without
// Redis, fallback with it).
type rule struct {
	name        string // key prefix: "origin:" or "client:"
	label       string // LimitOrigin or LimitClient
	limit       Limit
	local       *localCounter
	args        scriptArgs // for Redis; zero: boxed per call
	limitHeader string     // limit.Requests formatted for X-RateLimit-Limit; "": formatted per call
}

// New validates cfg and builds a Limiter. With Redis configured it checks
// Redis once, bounded by ctx and the client's short timeouts, and starts a
// background probe; an unavailable Redis is logged and handled as described
// at FailMode, never an error. Errors are for bad configuration only.
func New(ctx context.Context, cfg Config) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if (!cfg.Origin.Off() || cfg.OriginConcurrency > 0) && cfg.OriginKey == nil {
		return nil, errors.New("ratelimit: an origin limit or cap needs an OriginKey function")
	}
	l := &Limiter{
		originKey:     cfg.OriginKey,
		exempt:        cfg.Exempt,
		trustedHeader: cfg.TrustedProxyHeader,
		failClosed:    cfg.FailMode == FailClosed,
		onLimited:     cfg.OnLimited,
		onUnavailable: cfg.OnUnavailable,
		onRefused:     cfg.OnRefused,
		log:           cfg.Logger,
		inFlight:      newInFlight(),
		clientConc:    cfg.ClientConcurrency,
		originConc:    cfg.OriginConcurrency,
	}
	if !cfg.Origin.Off() {
		l.origin = &rule{name: originPrefix, label: LimitOrigin, limit: cfg.Origin, local: newLocalCounter(cfg.Origin.Window),
			args: newScriptArgs(cfg.Origin), limitHeader: strconv.Itoa(cfg.Origin.Requests)}
	}
	if !cfg.Client.Off() {
		l.client = &rule{name: clientPrefix, label: LimitClient, limit: cfg.Client, local: newLocalCounter(cfg.Client.Window),
			args: newScriptArgs(cfg.Client), limitHeader: strconv.Itoa(cfg.Client.Requests)}
	}
	l.anonPolicies = anonPolicies(l.client, l.origin)
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.onLimited == nil {
		l.onLimited = func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "rate limited", http.StatusTooManyRequests)
		}
	}
	if l.onUnavailable == nil {
		l.onUnavailable = func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		}
	}
	if l.origin == nil && l.client == nil && !cfg.Keys || cfg.Redis == nil && cfg.RedisURL == "" {
		return l, nil
	}

	l.rdb = cfg.Redis
	if l.rdb == nil {
		opts, _ := ParseRedisURL(cfg.RedisURL)
		l.rdb, l.ownsRDB = redis.NewUniversalClient(opts), true
	}
	// Shared counts go through our script, not through httprate's
	// RateLimiter on a Redis LimitCounter: that contract is Get, then
	// IncrementBy, two steps that instances do not hold a lock across, so
	// two instances can both read 9 of 10 and both admit, overshooting the
	// limit. A limit shared exactly is a promise of ours; the script counts
	// and checks in one atomic step (see RedisCounter).
	l.counter = NewRedisCounter(l.rdb)
	if err := l.probe(ctx); err != nil {
		l.markDegraded(err)
	}
	interval := cfg.probeInterval
	if interval <= 0 {
		interval = DefaultProbeInterval
	}
	probeCtx, stop := context.WithCancel(context.Background())
	l.stopProbe, l.probeDone = stop, make(chan struct{})
	go l.probeLoop(probeCtx, interval)
	l.flushDone = make(chan struct{})
	go l.flushLoop(probeCtx, bytesFlushInterval)
	return l, nil
}

// Close stops the background probe and closes the Redis client New opened.
// The middleware keeps working on in-memory counters afterwards.
func (l *Limiter) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		if l.stopProbe != nil {
			l.stopProbe()
			<-l.probeDone
			<-l.flushDone // its last flush done
		}
		if l.ownsRDB {
			err = l.rdb.Close()
		}
	})
	return err
}

// Status reports the counters' health for /readyz: StatusNotConfigured
// without Redis (or with every limit off), else StatusHealthy or
// StatusDegraded. Degraded is not unready: with FailOpen requests are still
// limited, per instance.
func (l *Limiter) Status() string {
	switch {
	case l.counter == nil:
		return StatusNotConfigured
	case l.degraded.Load():
		return StatusDegraded
	}
	return StatusHealthy
}

// Backend names the counters requests are counted in now, for the request
// log: BackendOff, BackendLocal, BackendRedis or BackendFallback.
func (l *Limiter) Backend() string {
	switch {
	case l.origin == nil && l.client == nil:
		return BackendOff
	case l.counter == nil:
		return BackendLocal
	case l.degraded.Load():
		return BackendFallback
	}
	return BackendRedis
}

// invalidOriginKey is the one bucket of all invalid Origin values; an
// OriginKey function never returns it, and it is never exempt.
const invalidOriginKey = "(invalid)"

// errUnavailable means FailClosed refused to decide without Redis.
var errUnavailable = errors.New("ratelimit: redis unavailable")

// Middleware applies Take to every request, for using the limiter as an
// ordinary handler wrapper outside corsbridge's pipeline (corsbridge's own
// server calls Take as one step of its proxy handler). The request is counted
// with ClientIP, its Origin header, and the key a context carries (WithKey).
// Refusals get their headers and then OnLimited (429) or OnUnavailable (503);
// OnRefused is told which limit refused.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Client: ClientIP(r, l.trustedHeader), Origin: r.Header.Get("Origin")}
		if k, ok := keyedFrom(r.Context()); ok {
			req.Key, req.KeyLimit, req.KeyQuota = k.name, k.limit, k.quota
		}
		res := l.Take(r.Context(), req, time.Now())
		defer res.Release()
		res.SetHeaders(w.Header())
		switch {
		case res.Unavailable:
			l.onUnavailable(w, r)
		case res.RefusedBy != "":
			if l.onRefused != nil {
				l.onRefused(r, res.RefusedBy)
			}
			l.onLimited(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
