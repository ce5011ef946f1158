package tlsserve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// LockConfig times RedisCache's lock.
type LockConfig struct {
	// TTL is the lock's expiry in Redis; the holder extends it every TTL/3,
	// so a crashed holder frees the name within TTL.
	TTL time.Duration
	// Poll is how often a waiting instance looks again.
	Poll time.Duration
	// MaxHold bounds how long one instance keeps the lock without storing a
	// certificate. autocert may take a due certificate's lock and still wait
	// up to an hour (its renewal jitter) before ordering, then give the
	// order up to ten minutes; a holder that never stores (a failed
	// renewal) lets go after this.
	MaxHold time.Duration
}

// Lock defaults.
const (
	DefaultLockTTL     = 30 * time.Second
	DefaultLockPoll    = 250 * time.Millisecond
	DefaultLockMaxHold = 75 * time.Minute
)

func (l LockConfig) withDefaults() LockConfig {
	if l.TTL <= 0 {
		l.TTL = DefaultLockTTL
	}
	if l.Poll <= 0 {
		l.Poll = DefaultLockPoll
	}
	if l.MaxHold <= 0 {
		l.MaxHold = DefaultLockMaxHold
	}
	return l
}

// releaseSrc deletes the lock only if it is still ours: after an expiry
// another instance may hold it.
const releaseSrc = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// extendSrc renews the lock only if it is still ours.
const extendSrc = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`

type lockScripts struct{ release, extend *redis.Script }

func newLockScripts() lockScripts {
	return lockScripts{release: redis.NewScript(releaseSrc), extend: redis.NewScript(extendSrc)}
}

type heldLock struct {
	token string
	stop  chan struct{}
	done  chan struct{}
}

func lockKey(key string) string { return keyPrefix + "lock:" + key }

// acquire takes the lock on key for this instance, if it is free.
func (c *RedisCache) acquire(ctx context.Context, key string) (bool, error) {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	ok, err := c.rdb.SetNX(ctx, lockKey(key), token, c.lock.TTL).Result()
	if err != nil || !ok {
		return false, err
	}
	h := &heldLock{token: token, stop: make(chan struct{}), done: make(chan struct{})}
	c.mu.Lock()
	c.held[key] = h
	c.mu.Unlock()
	c.log.Info("tls: took the lock to order a certificate", "name", key)
	go c.keep(key, h)
	return true, nil
}

// keep extends the lock until it is released, lost, or held for MaxHold.
func (c *RedisCache) keep(key string, h *heldLock) {
	defer close(h.done)
	tick := time.NewTicker(c.lock.TTL / 3)
	defer tick.Stop()
	limit := time.NewTimer(c.lock.MaxHold)
	defer limit.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-limit.C:
			c.log.Warn("tls: gave up the certificate lock without storing a certificate", "name", key)
			go c.release(key)
			<-h.stop
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.lock.TTL/3)
		n, err := c.scripts.extend.Run(ctx, c.rdb, []string{lockKey(key)}, h.token, c.lock.TTL.Milliseconds()).Int()
		cancel()
		if err == nil && n == 0 {
			// Expired while Redis was unreachable, maybe taken by another
			// instance: stop claiming it.
			c.log.Warn("tls: lost the certificate lock", "name", key)
			go c.release(key)
			<-h.stop
			return
		}
	}
}

// release gives up the lock on key if this instance holds it.
func (c *RedisCache) release(key string) {
	c.mu.Lock()
	h := c.held[key]
	delete(c.held, key)
	c.mu.Unlock()
	if h == nil {
		return
	}
	close(h.stop)
	<-h.done
	ctx, cancel := context.WithTimeout(context.Background(), c.lock.TTL)
	defer cancel()
	if err := c.scripts.release.Run(ctx, c.rdb, []string{lockKey(key)}, h.token).Err(); err != nil {
		c.log.Warn("tls: could not release the certificate lock; it expires on its own", "name", key, "error", err)
	}
}
