package cache

import (
	"errors"
	"fmt"
	"time"
)

// Defaults. No default TTL: a response without freshness information is not
// stored unless the operator asks for one (no heuristic freshness).
const (
	DefaultSize         = 64 << 20
	DefaultMaxEntry     = 8 << 20
	DefaultDefaultTTL   = 0
	DefaultMaxTTL       = 24 * time.Hour
	DefaultRedisTimeout = 100 * time.Millisecond
	DefaultRedisPrefix  = "corsbridge:cache:"
	// DefaultLocalTTL bounds how long an instance keeps an entry in memory
	// when Redis is shared: a purge on another instance reaches this one's
	// memory within this time.
	DefaultLocalTTL = time.Second
)

// Config is the cache's settings.
type Config struct {
	// Size bounds the memory tier, in bytes (bodies and headers).
	Size int64
	// MaxEntry is the largest body stored; larger responses stream past
	// the cache and are never buffered beyond this size.
	MaxEntry int64
	// DefaultTTL is the freshness given to a response cacheable by default
	// (RFC 9110 section 15.1) that carries no freshness of its own; 0 means
	// such responses are not stored.
	DefaultTTL time.Duration
	// MaxTTL caps every entry's freshness and stale windows; 0 means no cap.
	MaxTTL time.Duration
	// RedisPrefix starts every Redis key of the cache.
	RedisPrefix string
	// RedisTimeout bounds each Redis call; past it the call counts as a
	// miss (lookups) or is dropped (stores).
	RedisTimeout time.Duration
	// LocalTTL bounds the time an entry stays in memory when Redis is used;
	// 0 keeps nothing in memory but pass marks, so every hit is read from
	// Redis (and while Redis fails, every lookup misses).
	LocalTTL time.Duration
}

// DefaultConfig is the configuration with every default.
func DefaultConfig() Config {
	return Config{
		Size:         DefaultSize,
		MaxEntry:     DefaultMaxEntry,
		DefaultTTL:   DefaultDefaultTTL,
		MaxTTL:       DefaultMaxTTL,
		RedisPrefix:  DefaultRedisPrefix,
		RedisTimeout: DefaultRedisTimeout,
		LocalTTL:     DefaultLocalTTL,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Size <= 0:
		return errors.New("cache size must be positive")
	case c.MaxEntry <= 0:
		return errors.New("cache max entry must be positive")
	case c.MaxEntry > c.Size:
		return fmt.Errorf("cache max entry (%d bytes) is larger than the cache (%d bytes)", c.MaxEntry, c.Size)
	case c.MaxEntry > 1<<31:
		return errors.New("cache max entry must be at most 2GiB")
	case c.DefaultTTL < 0:
		return errors.New("cache default TTL must not be negative")
	case c.MaxTTL < 0:
		return errors.New("cache max TTL must not be negative")
	case c.MaxTTL > 0 && c.DefaultTTL > c.MaxTTL:
		return fmt.Errorf("cache default TTL %v is above the max TTL %v", c.DefaultTTL, c.MaxTTL)
	case c.RedisPrefix == "":
		return errors.New("cache Redis prefix must not be empty")
	case c.RedisTimeout <= 0:
		return errors.New("cache Redis timeout must be positive")
	case c.LocalTTL < 0:
		return errors.New("cache local TTL must not be negative")
	}
	return nil
}
