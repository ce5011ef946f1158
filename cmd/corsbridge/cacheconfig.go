package main

import (
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/web"
)

// CacheConfig is the shared response cache's settings.
type CacheConfig struct {
	Enabled bool
	cache.Config
	// RedisURL is where entries are shared; empty uses REDIS_URL, and
	// "none" keeps the cache in memory even when REDIS_URL is set.
	RedisURL string
}

// cacheRedisNone keeps the cache in memory while REDIS_URL is set.
const cacheRedisNone = "none"

// SharedRedisURL is the Redis the cache uses, or "" for memory only.
func (c CacheConfig) SharedRedisURL(redisURL string) string {
	switch {
	case !c.Enabled || c.RedisURL == cacheRedisNone:
		return ""
	case c.RedisURL != "":
		return c.RedisURL
	}
	return redisURL
}

func cacheSettings() []setting {
	return []setting{
		{Flag: "cache", Env: "CORSBRIDGE_CACHE", Default: "on",
			Usage: "the shared response cache (RFC 9111, with coalescing): on or off",
			apply: func(c *Config, v string) error {
				switch strings.ToLower(strings.TrimSpace(v)) {
				case "on", "true":
					c.Cache.Enabled = true
				case "off", "false":
					c.Cache.Enabled = false
				default:
					return errors.New("must be on or off")
				}
				return nil
			}},
		{Flag: "cache-size", Env: "CORSBRIDGE_CACHE_SIZE", Default: "64MiB",
			Usage: "memory for cached responses, bodies and headers, in bytes; least useful entries are evicted beyond it",
			apply: func(c *Config, v string) (err error) { c.Cache.Size, err = web.ParseBytes(v); return }},
		{Flag: "cache-max-entry", Env: "CORSBRIDGE_CACHE_MAX_ENTRY", Default: "8MiB",
			Usage: "largest response body stored (at most the cache size and the response limit); larger ones stream past the cache unbuffered",
			apply: func(c *Config, v string) (err error) { c.Cache.MaxEntry, err = web.ParseBytes(v); return }},
		{Flag: "cache-default-ttl", Env: "CORSBRIDGE_CACHE_DEFAULT_TTL", Default: "0",
			Usage: "freshness given to cacheable responses that carry none (no Cache-Control max-age or Expires); 0 stores only what the upstream marks fresh",
			apply: func(c *Config, v string) (err error) { c.Cache.DefaultTTL, err = parseCacheDuration(v); return }},
		{Flag: "cache-max-ttl", Env: "CORSBRIDGE_CACHE_MAX_TTL", Default: "24h",
			Usage: "longest any response stays fresh in the cache, whatever the upstream says; 0: no ceiling",
			apply: func(c *Config, v string) (err error) { c.Cache.MaxTTL, err = parseCacheDuration(v); return }},
		{Flag: "cache-local-ttl", Env: "CORSBRIDGE_CACHE_LOCAL_TTL", Default: "1s",
			Usage: "with Redis, how long an instance keeps an entry it stored or read in memory too: a purge on another instance reaches it within this time; 0 reads every hit from Redis",
			apply: func(c *Config, v string) (err error) { c.Cache.LocalTTL, err = parseCacheDuration(v); return }},
		{Flag: "cache-redis-url", Env: "CORSBRIDGE_CACHE_REDIS_URL", Default: "", Secret: true,
			Usage: "Redis where instances share cached responses; empty uses REDIS_URL, \"none\" keeps the cache in memory",
			apply: func(c *Config, v string) error {
				c.Cache.RedisURL = strings.TrimSpace(v)
				if c.Cache.RedisURL == "" || c.Cache.RedisURL == cacheRedisNone {
					return nil
				}
				_, err := ratelimit.ParseRedisURL(c.Cache.RedisURL)
				return err
			}},
	}
}

// parseCacheDuration reads a TTL: a Go duration, or a bare number of seconds.
func parseCacheDuration(v string) (time.Duration, error) {
	d, err := parseSeconds(v)
	if err == nil && d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, err
}

// validateCache checks the cache's settings. The largest entry is held to
// the cache's size and to the response limit first: nothing larger could be
// stored, or relayed whole.
func (c *Config) validateCache() error {
	if !c.Cache.Enabled {
		return nil
	}
	c.Cache.MaxEntry = min(c.Cache.MaxEntry, c.Cache.Size, c.Server.MaxResponseBody)
	return c.Cache.Config.Validate()
}

// cacheDeps is the server's cache configuration (nil when off) and the
// Redis it shares entries through: the limits' client when the URL is the
// same, else a client of its own, which closeRedis closes.
func cacheDeps(cfg Config, limitsRedis redis.UniversalClient) (c *cache.Config, rdb redis.UniversalClient, closeRedis func(), err error) {
	closeRedis = func() {}
	if !cfg.Cache.Enabled {
		return nil, nil, closeRedis, nil
	}
	c = &cfg.Cache.Config
	switch url := cfg.Cache.SharedRedisURL(cfg.RateLimit.RedisURL); url {
	case "":
	case cfg.RateLimit.RedisURL:
		rdb = limitsRedis
	default:
		opts, err := ratelimit.ParseRedisURL(url)
		if err != nil {
			return nil, nil, closeRedis, err
		}
		rdb = redis.NewUniversalClient(opts)
		closeRedis = func() { rdb.Close() }
	}
	return c, rdb, closeRedis, nil
}
