package tlsserve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/acme/autocert"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// cacheEntry is a certificate in autocert's cache format (key, then chain),
// valid until notAfter.
func cacheEntry(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	c, _ := selfSigned(t, "proxy.corsbridge.test", 7, notAfter)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), c...)
}

func newCaches(t *testing.T, n int, lock LockConfig) ([]*RedisCache, *redis.Client) {
	t.Helper()
	rs := redistest.Dedicated(t)
	var out []*RedisCache
	for range n {
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
		c := NewRedisCache(rdb, time.Hour, lock, nil)
		t.Cleanup(func() { c.Close(); rdb.Close() })
		out = append(out, c)
	}
	admin := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { admin.Close() })
	return out, admin
}

// The second instance to miss waits while the first holds the lock, and
// gets what the first stored: it never orders itself.
func TestRedisCacheSecondInstanceWaitsForTheFirst(t *testing.T) {
	caches, admin := newCaches(t, 2, LockConfig{TTL: time.Second, Poll: 10 * time.Millisecond})
	a, b := caches[0], caches[1]
	ctx := t.Context()
	const name = "proxy.corsbridge.test"

	if _, err := a.Get(ctx, name); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("first Get: %v, want a miss with the lock taken", err)
	}
	if ttl := admin.PTTL(ctx, lockKey(name)).Val(); ttl <= 0 {
		t.Fatalf("lock TTL %v after the first miss", ttl)
	}
	got := make(chan []byte, 1)
	go func() {
		data, err := b.Get(ctx, name)
		if err != nil {
			t.Errorf("second Get: %v", err)
		}
		got <- data
	}()
	// Longer than the lock's TTL: the holder keeps it alive.
	time.Sleep(1500 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("the second instance did not wait for the lock")
	default:
	}
	entry := cacheEntry(t, time.Now().Add(90*24*time.Hour))
	if err := a.Put(ctx, name, entry); err != nil {
		t.Fatal(err)
	}
	select {
	case data := <-got:
		if string(data) != string(entry) {
			t.Error("the second instance read something else than the first stored")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second instance still waits after the certificate was stored")
	}
	if n := admin.Exists(ctx, lockKey(name)).Val(); n != 0 {
		t.Error("lock still held after Put")
	}
}

func TestRedisCacheLock(t *testing.T) {
	const name = "proxy.corsbridge.test"
	t.Run("a failed order gives the lock up", func(t *testing.T) {
		caches, admin := newCaches(t, 1, LockConfig{})
		if _, err := caches[0].Get(t.Context(), name); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatal(err)
		}
		caches[0].ReleaseName(name)
		if admin.Exists(t.Context(), lockKey(name)).Val() != 0 {
			t.Error("lock still held after ReleaseName")
		}
	})
	t.Run("a crashed holder's lock expires", func(t *testing.T) {
		caches, admin := newCaches(t, 1, LockConfig{TTL: 200 * time.Millisecond, Poll: 10 * time.Millisecond})
		// Another instance took the lock and died: nothing extends it.
		admin.Set(t.Context(), lockKey(name), "dead-instance", 200*time.Millisecond)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if _, err := caches[0].Get(ctx, name); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("Get after the dead holder's lock expired: %v", err)
		}
		if v := admin.Get(t.Context(), lockKey(name)).Val(); v == "dead-instance" || v == "" {
			t.Errorf("lock value %q, want this instance's token", v)
		}
	})
	t.Run("a fresh certificate is read without a lock", func(t *testing.T) {
		caches, admin := newCaches(t, 1, LockConfig{})
		admin.Set(t.Context(), keyPrefix+name, cacheEntry(t, time.Now().Add(90*24*time.Hour)), 0)
		if _, err := caches[0].Get(t.Context(), name); err != nil {
			t.Fatal(err)
		}
		if admin.Exists(t.Context(), lockKey(name)).Val() != 0 {
			t.Error("reading a fresh certificate took the lock")
		}
	})
	t.Run("a certificate due for renewal takes the lock", func(t *testing.T) {
		caches, admin := newCaches(t, 1, LockConfig{})
		entry := cacheEntry(t, time.Now().Add(30*time.Minute)) // within RenewBefore (1h)
		admin.Set(t.Context(), keyPrefix+name, entry, 0)
		data, err := caches[0].Get(t.Context(), name)
		if err != nil || string(data) != string(entry) {
			t.Fatalf("Get: %v", err)
		}
		if admin.Exists(t.Context(), lockKey(name)).Val() != 1 {
			t.Error("a due certificate was handed out without the lock")
		}
	})
	t.Run("while another renews, a handshake gets the valid certificate and a renewal waits", func(t *testing.T) {
		caches, admin := newCaches(t, 1, LockConfig{Poll: 10 * time.Millisecond})
		entry := cacheEntry(t, time.Now().Add(30*time.Minute))
		admin.Set(t.Context(), keyPrefix+name, entry, 0)
		admin.Set(t.Context(), lockKey(name), "other-instance", time.Minute)
		// Not loaded by autocert yet: the Get comes from a handshake.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if data, err := caches[0].Get(ctx, name); err != nil || string(data) != string(entry) {
			t.Fatalf("handshake Get: %v", err)
		}
		// Loaded now: a further Get is autocert's renewal, which must not
		// order while the other instance holds the lock.
		ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if _, err := caches[0].Get(ctx, name); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("renewal Get: %v, want it to wait for the other instance", err)
		}
	})
	t.Run("challenge answers expire, the account key does not", func(t *testing.T) {
		caches, admin := newCaches(t, 1, LockConfig{})
		for key, wantTTL := range map[string]bool{"tok+http-01": true, name + "+token": true, accountKey: false} {
			if err := caches[0].Put(t.Context(), key, []byte("x")); err != nil {
				t.Fatal(err)
			}
			if ttl := admin.TTL(t.Context(), keyPrefix+key).Val(); (ttl > 0) != wantTTL {
				t.Errorf("%s: TTL %v", key, ttl)
			}
		}
	})
}
