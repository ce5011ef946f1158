package tlsserve

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/acme/autocert"
)

// keyPrefix namespaces everything RedisCache stores.
const keyPrefix = "corsbridge:tls:"

// tokenTTL bounds how long a challenge answer may outlive a crashed
// instance; autocert deletes them itself when it is done.
const tokenTTL = time.Hour

// RedisCache is an autocert.Cache in Redis, shared by every instance, with a
// lock per certificate so that only one instance talks to the CA for a name
// at a time.
//
// autocert reaches the CA in two places, the first handshake for a name and
// its renewal timer, and both follow the same steps: Get the certificate
// from the cache; if it is missing or due, order one; Put it. So the lock
// lives in the cache: a Get that finds no certificate, or one due for
// renewal, takes the lock (SET NX PX with a random token, extended while
// held) and the Put of the new certificate releases it (compare-and-delete).
// An instance that finds the lock taken waits for it and reads what the
// holder stored, so it never orders itself. Challenge answers (tls-alpn-01
// certificates and http-01 tokens) are in the cache too, so whichever
// instance the CA reaches can answer for the one that ordered.
type RedisCache struct {
	rdb         redis.UniversalClient
	renewBefore time.Duration
	lock        LockConfig
	log         *slog.Logger
	now         func() time.Time
	scripts     lockScripts

	mu   sync.Mutex
	held map[string]*heldLock
	// known: certificates autocert has loaded into its memory. It asks the
	// cache for them again only from its renewal timer, never from a
	// handshake (see Get).
	known map[string]bool
}

// NewRedisCache stores in rdb. renewBefore must be the autocert Manager's
// RenewBefore: a certificate within it of its expiry is due.
func NewRedisCache(rdb redis.UniversalClient, renewBefore time.Duration, lock LockConfig, log *slog.Logger) *RedisCache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RedisCache{
		rdb: rdb, renewBefore: renewBefore, lock: lock.withDefaults(), log: log, now: time.Now, scripts: newLockScripts(),
		held: map[string]*heldLock{}, known: map[string]bool{},
	}
}

// isCertKey: autocert's cache keys are the domain (ECDSA certificate),
// domain+"+rsa", domain+"+token" (a tls-alpn-01 answer), token+"+http-01"
// and the account key, "acme_account+key" (read as "acme_account.key" by
// older versions). Only the first two are certificates to lock.
func isCertKey(key string) bool {
	if key == accountKey || key == legacyAccountKey {
		return false
	}
	return !strings.Contains(key, "+") || strings.HasSuffix(key, "+rsa")
}

const (
	accountKey       = "acme_account+key"
	legacyAccountKey = "acme_account.key"
)

// Get reads key. For a certificate that is missing or due it returns only
// once this instance holds the lock or another instance has stored a fresh
// one.
func (c *RedisCache) Get(ctx context.Context, key string) ([]byte, error) {
	if !isCertKey(key) {
		return c.get(ctx, key)
	}
	for {
		data, err := c.get(ctx, key)
		if err != nil && !errors.Is(err, autocert.ErrCacheMiss) {
			return nil, err
		}
		valid, fresh := c.fresh(data)
		if fresh {
			c.markKnown(key)
			return data, nil
		}
		if c.holds(key) {
			return data, err
		}
		locked, lerr := c.acquire(ctx, key)
		if lerr != nil {
			return nil, lerr
		}
		if locked {
			// The previous holder may have stored a new certificate
			// between our read and our lock.
			data, err = c.get(ctx, key)
			if _, fresh := c.fresh(data); fresh {
				c.release(key)
				c.markKnown(key)
				return data, nil
			}
			return data, err
		}
		if valid && !c.isKnown(key) {
			// A certificate autocert has not loaded is asked for by a
			// handshake: serve the valid one rather than stall handshakes
			// while another instance renews it.
			c.markKnown(key)
			return data, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.lock.Poll):
		}
	}
}

// Put stores data; a certificate's Put releases the lock taken to order it.
func (c *RedisCache) Put(ctx context.Context, key string, data []byte) error {
	var ttl time.Duration
	if !isCertKey(key) && key != accountKey && key != legacyAccountKey {
		ttl = tokenTTL
	}
	if err := c.rdb.Set(ctx, keyPrefix+key, data, ttl).Err(); err != nil {
		return err
	}
	if isCertKey(key) {
		c.markKnown(key)
		c.release(key)
	}
	return nil
}

// Delete removes key.
func (c *RedisCache) Delete(ctx context.Context, key string) error {
	return c.rdb.Del(ctx, keyPrefix+key).Err()
}

// ReleaseName gives up the locks on name's certificates, if this instance
// holds them: an order that failed stores nothing, so nothing else would.
func (c *RedisCache) ReleaseName(name string) {
	c.release(name)
	c.release(name + "+rsa")
}

// Close releases every lock this instance holds.
func (c *RedisCache) Close() {
	c.mu.Lock()
	keys := make([]string, 0, len(c.held))
	for k := range c.held {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	for _, k := range keys {
		c.release(k)
	}
}

// fresh reads the certificate in data: valid, it is valid now; fresh, it
// is also not yet due for renewal.
func (c *RedisCache) fresh(data []byte) (valid, fresh bool) {
	now := c.now()
	notAfter, valid := certExpiry(data, now)
	return valid, valid && now.Before(notAfter.Add(-c.renewBefore))
}

func (c *RedisCache) get(ctx context.Context, key string) ([]byte, error) {
	data, err := c.rdb.Get(ctx, keyPrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, autocert.ErrCacheMiss
	}
	return data, err
}

func (c *RedisCache) markKnown(key string) {
	c.mu.Lock()
	c.known[key] = true
	c.mu.Unlock()
}

func (c *RedisCache) isKnown(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known[key]
}

func (c *RedisCache) holds(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[key] != nil
}
