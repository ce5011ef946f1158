package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
	"github.com/redis/go-redis/v9"
)

var _ httprate.LimitCounter = (*RedisCounter)(nil)

// keyPrefix starts every key corsbridge writes to Redis.
const keyPrefix = "corsbridge:rl:"

// takeScript counts one request if the sliding-window estimate leaves room,
// atomically: Redis runs a script to completion before any other command, so
// concurrent instances can never admit more than the limit between them.
//
// KEYS[1]: current window counter, KEYS[2]: previous window counter.
// ARGV: limit, window ms, elapsed ms, expiry ms. Returns {allowed, curr, prev}
// with curr including this request when allowed. The numbers stay below 2^53
// (MaxRequests * MaxWindow in ms), so Lua's float arithmetic is exact.
const takeScript = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local curr = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
if prev * (window - elapsed) + (curr + 1) * window > limit * window then
  return {0, curr, prev}
end
curr = redis.call('INCR', KEYS[1])
if curr == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {1, curr, prev}
`

// RedisCounter counts requests in Redis, shared by every instance using the
// same Redis. Keys look like
//
//	corsbridge:rl:{origin:app.example.com}:60s:29000000
//
// (prefix, {counter key} as a Redis Cluster hash tag so both windows of a key
// live on one shard, window length, window index since the Unix epoch) and
// expire two windows plus a second after their last write.
//
// Take is the one-round-trip atomic operation the Limiter uses. RedisCounter
// also implements httprate.LimitCounter (windows must then be whole seconds,
// one window per counter, as Config sets it), so it can back
// httprate.NewRateLimiter directly; that path does Get then IncrementBy, which
// is not atomic across instances.
type RedisCounter struct {
	client   redis.UniversalClient
	script   *redis.Script
	pipeline bool         // Take via MULTI pipeline instead of the script (benchmarks)
	window   atomic.Int64 // httprate.LimitCounter window, set by Config
}

// NewRedisCounter returns a counter on client. The caller keeps ownership of
// client and closes it.
func NewRedisCounter(client redis.UniversalClient) *RedisCounter {
	return &RedisCounter{client: client, script: redis.NewScript(takeScript)}
}

// counterKey is the Redis key of a counter key's window idx.
func counterKey(key string, w time.Duration, idx int64) string {
	b := make([]byte, 0, len(keyPrefix)+len(key)+32)
	b = append(b, keyPrefix...)
	b = append(b, '{')
	b = append(b, key...)
	b = append(b, "}:"...)
	b = strconv.AppendInt(b, int64(w/time.Second), 10)
	b = append(b, "s:"...)
	b = strconv.AppendInt(b, idx, 10)
	return string(b)
}

func expiryMS(w time.Duration) int64 { return (2*w + time.Second).Milliseconds() }

// Take counts one request for key at now against l, if it fits, in one
// atomic round trip (EVALSHA, or EVAL once after the script cache was
// flushed). l must be valid and not off.
func (c *RedisCounter) Take(ctx context.Context, key string, now time.Time, l Limit) (Decision, error) {
	if c.pipeline {
		return c.takePipelined(ctx, key, now, l)
	}
	idx, elapsed := window(now, l.Window)
	keys := []string{counterKey(key, l.Window, idx), counterKey(key, l.Window, idx-1)}
	res, err := c.script.Run(ctx, c.client, keys,
		l.Requests, l.Window.Milliseconds(), elapsed, expiryMS(l.Window)).Int64Slice()
	if err != nil {
		return Decision{}, err
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: unexpected script reply %v", res)
	}
	return decide(l, res[0] == 1, res[1], res[2], idx, elapsed), nil
}

// takePipelined is the script-free alternative: MULTI INCR, PEXPIRE, GET
// previous, EXEC in one round trip, then DECR in a second one when the request
// did not fit. Admission is exact across instances too (each INCR returns a
// distinct count), but refusals cost two round trips and briefly hold a slot.
func (c *RedisCounter) takePipelined(ctx context.Context, key string, now time.Time, l Limit) (Decision, error) {
	idx, elapsed := window(now, l.Window)
	cur := counterKey(key, l.Window, idx)
	var incr *redis.IntCmd
	var prevCmd *redis.StringCmd
	_, err := c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, cur)
		p.PExpire(ctx, cur, time.Duration(expiryMS(l.Window))*time.Millisecond)
		prevCmd = p.Get(ctx, counterKey(key, l.Window, idx-1))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Decision{}, err
	}
	curr := incr.Val()
	prev, err := prevCmd.Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Decision{}, err
	}
	if allows(l, curr-1, prev, elapsed) {
		return decide(l, true, curr, prev, idx, elapsed), nil
	}
	if err := c.client.Decr(ctx, cur).Err(); err != nil {
		return Decision{}, err
	}
	return decide(l, false, curr-1, prev, idx, elapsed), nil
}

// Config implements httprate.LimitCounter; httprate calls it once, before use.
func (c *RedisCounter) Config(requestLimit int, windowLength time.Duration) {
	c.window.Store(int64(windowLength))
}

// Increment implements httprate.LimitCounter.
func (c *RedisCounter) Increment(key string, currentWindow time.Time) error {
	return c.IncrementBy(key, currentWindow, 1)
}

// IncrementBy implements httprate.LimitCounter.
func (c *RedisCounter) IncrementBy(key string, currentWindow time.Time, amount int) error {
	w, err := c.configured()
	if err != nil {
		return err
	}
	ctx := context.Background()
	k := counterKey(key, w, currentWindow.UnixMilli()/w.Milliseconds())
	_, err = c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, k, int64(amount))
		p.PExpire(ctx, k, time.Duration(expiryMS(w))*time.Millisecond)
		return nil
	})
	return err
}

// Get implements httprate.LimitCounter.
func (c *RedisCounter) Get(key string, currentWindow, previousWindow time.Time) (int, int, error) {
	w, err := c.configured()
	if err != nil {
		return 0, 0, err
	}
	wms := w.Milliseconds()
	vals, err := c.client.MGet(context.Background(),
		counterKey(key, w, currentWindow.UnixMilli()/wms),
		counterKey(key, w, previousWindow.UnixMilli()/wms)).Result()
	if err != nil {
		return 0, 0, err
	}
	var n [2]int
	for i, v := range vals {
		if s, ok := v.(string); ok {
			if n[i], err = strconv.Atoi(s); err != nil {
				return 0, 0, fmt.Errorf("ratelimit: counter %q holds %q", key, s)
			}
		}
	}
	return n[0], n[1], nil
}

func (c *RedisCounter) configured() (time.Duration, error) {
	w := time.Duration(c.window.Load())
	if w < time.Second || w%time.Second != 0 {
		return 0, fmt.Errorf("ratelimit: RedisCounter window %v: Config must set a whole number of seconds", w)
	}
	return w, nil
}
