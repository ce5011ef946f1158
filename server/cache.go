package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/proxy"
)

// newCache builds the shared cache from Deps; nil when it is off. Headers
// the forwarder drops are left out of the cache key: they never reach the
// upstream, so they cannot change its answer.
func (s *Server) newCache(cfg *cache.Config, rdb redis.UniversalClient) (*cache.Cache, error) {
	if cfg == nil {
		return nil, nil
	}
	trusted := s.cfg.TrustedProxyHeader
	return cache.New(*cfg, cache.Options{
		Redis:   rdb,
		Dropped: func(name string) bool { return proxy.DropsRequestHeader(name, trusted) },
		Expose:  s.cors.exposeList,
		Logger:  s.logger,
	})
}

// lookup is the cache step, after admission: a request answered from the
// cache passed the same policy, access and limits as one forwarded. Its
// entries are keyed by targetURL, the target as proxy.TargetString renders
// it. It returns nil without a cache; the caller ends a returned Txn with
// Done.
//
// Requests made with an access key or token share entries only with the
// same key's: a key may make the proxy send secrets upstream, which the
// request's own headers do not show.
func (s *Server) lookup(r *http.Request, targetURL string, grant *access.Grant) *cache.Txn {
	if s.cache == nil {
		return nil
	}
	req := cache.Request{
		Method:  r.Method,
		URL:     targetURL,
		Header:  r.Header,
		HasBody: r.ContentLength != 0,
	}
	if grant != nil {
		req.Partition = "key:" + grant.Name
	}
	return s.cache.Lookup(r.Context(), req)
}

// serveCached writes an answer from the cache. The per-request headers (CORS
// for this origin, request id, rate limits) are on w already; the cache adds
// the expose list, made by exposeList as for a relayed response (once per
// entry), so a page reads Cache-Status and Age too.
func (s *Server) serveCached(w http.ResponseWriter, resp *cache.Response) {
	_ = resp.Write(w)
}

// cacheStep is tx as the forwarder's cache step; nil stays a nil interface.
func cacheStep(tx *cache.Txn) proxy.CacheStep {
	if tx == nil {
		return nil
	}
	return tx
}

// Cache states, as /readyz and the landing page report them.
const cacheOff = "off"

// cacheState is "off", "memory", "redis" or "degraded" (Redis failing: the
// cache serves from memory and misses otherwise; never unready).
func (s *Server) cacheState() string {
	if s.cache == nil {
		return cacheOff
	}
	return s.cache.State()
}

// cacheCollectors export the cache's totals, read when scraped.
func (s *Server) cacheCollectors() []prometheus.Collector {
	if s.cache == nil {
		return nil
	}
	stat := func(pick func(cache.Stats) uint64) func() float64 {
		return func() float64 { return float64(pick(s.cache.Stats())) }
	}
	counter := func(name, help string, labels prometheus.Labels, pick func(cache.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, stat(pick))
	}
	memory, redis := prometheus.Labels{"tier": cache.TierMemory}, prometheus.Labels{"tier": cache.TierRedis}
	const hits, stored = "Requests answered from the cache, by the tier the entry came from.", "Response body bytes written into the cache, by tier."
	return []prometheus.Collector{
		counter("corsbridge_cache_hits_total", hits, memory, func(st cache.Stats) uint64 { return st.HitsMemory }),
		counter("corsbridge_cache_hits_total", hits, redis, func(st cache.Stats) uint64 { return st.HitsRedis }),
		counter("corsbridge_cache_misses_total", "Cacheable requests forwarded without a usable entry.", nil, func(st cache.Stats) uint64 { return st.Misses }),
		counter("corsbridge_cache_stale_served_total", "Stale entries served, while revalidating or on an upstream error.", nil, func(st cache.Stats) uint64 { return st.StaleServed }),
		counter("corsbridge_cache_revalidations_total", "Conditional requests sent upstream for a stored entry.", nil, func(st cache.Stats) uint64 { return st.Revalidations }),
		counter("corsbridge_cache_coalesced_total", "Requests that waited for an identical request's upstream fetch.", nil, func(st cache.Stats) uint64 { return st.Coalesced }),
		counter("corsbridge_cache_stored_bytes_total", stored, memory, func(st cache.Stats) uint64 { return st.BytesStoredMemory }),
		counter("corsbridge_cache_stored_bytes_total", stored, redis, func(st cache.Stats) uint64 { return st.BytesStoredRedis }),
		counter("corsbridge_cache_evictions_total", "Entries evicted for room, by tier (Redis evicts on its own and reports it in INFO).", memory, func(st cache.Stats) uint64 { return st.Evictions }),
		counter("corsbridge_cache_redis_errors_total", "Failed or timed-out Redis calls of the cache, each a miss.", nil, func(st cache.Stats) uint64 { return st.RedisErrors }),
	}
}
