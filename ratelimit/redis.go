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

// takeScript counts one request against one or more limits in order,
// atomically: Redis runs a script to completion before any other command, so
// concurrent instances can never admit more than a limit between them. Each
// limit is counted if the sliding-window estimate leaves room; the script
// stops at the first that does not, and the ones before it stay counted,
// just as separate calls in that order would leave them.
//
// For limit i (from 1): KEYS[2i-1] its current window counter, KEYS[2i] its
// previous one; ARGV[4i-3..4i] its limit, window ms, elapsed ms, expiry ms.
// Returns {allowed, curr, prev} for each limit checked, with curr including
// this request when allowed. The numbers stay below 2^53 (MaxRequests *
// MaxWindow in ms), so Lua's float arithmetic is exact.
const takeScript = `
local out = {}
for i = 1, #KEYS / 2 do
  local a = (i - 1) * 4
  local limit = tonumber(ARGV[a + 1])
  local window = tonumber(ARGV[a + 2])
  local elapsed = tonumber(ARGV[a + 3])
  local cur = KEYS[2 * i - 1]
  local curr = tonumber(redis.call('GET', cur) or '0')
  local prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if prev * (window - elapsed) + (curr + 1) * window > limit * window then
    out[#out + 1] = 0
    out[#out + 1] = curr
    out[#out + 1] = prev
    return out
  end
  curr = redis.call('INCR', cur)
  if curr == 1 then
    redis.call('PEXPIRE', cur, ARGV[a + 4])
  end
  out[#out + 1] = 1
  out[#out + 1] = curr
  out[#out + 1] = prev
end
return out
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
// Take is the one-round-trip atomic operation the Limiter uses. The Limiter
// counts a request's client and origin limits together, in one script call,
// when every key lives on one server (a single Redis, or a Sentinel-managed
// master); in a Redis Cluster their keys hash to different slots, so each
// limit is a round trip of its own. RedisCounter also implements
// httprate.LimitCounter (windows must then be whole seconds, one window per
// counter, as Config sets it), so it can back httprate.NewRateLimiter
// directly; that path does Get then IncrementBy, which is not atomic across
// instances.
type RedisCounter struct {
	client   redis.UniversalClient
	script   *redis.Script
	quota    *redis.Script // quotaScript: a keyed request with quotas
	batch    *batcher      // shares round trips between concurrent script calls
	oneNode  bool          // every key on one server: several limits per script call
	pipeline bool          // Take via MULTI pipeline instead of the script (benchmarks)
	window   atomic.Int64  // httprate.LimitCounter window, set by Config
}

// NewRedisCounter returns a counter on client. The caller keeps ownership of
// client and closes it.
func NewRedisCounter(client redis.UniversalClient) *RedisCounter {
	_, oneNode := client.(*redis.Client) // not a cluster or a ring
	return &RedisCounter{client: client, script: redis.NewScript(takeScript), quota: redis.NewScript(quotaScript),
		batch: newBatcher(client), oneNode: oneNode}
}

// count is one counting of a request: a counter key under a rule.
type count struct {
	rule *rule
	key  string
}

// scriptArgs are a limit's fixed arguments to takeScript (limit, window ms,
// expiry ms), boxed once per rule rather than once per request.
type scriptArgs [3]any

func newScriptArgs(l Limit) scriptArgs {
	return scriptArgs{l.Requests, l.Window.Milliseconds(), expiryMS(l.Window)}
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
	ru := rule{limit: l}
	var out [1]Decision
	ds, err := c.takeEach(ctx, []count{{rule: &ru, key: key}}, now, out[:0])
	if err != nil {
		return Decision{}, err
	}
	return ds[0], nil
}

// takeEach counts one request against each of counts in order, stopping at
// the first that refuses, and appends the decisions to out: the last one is
// the refusal, if there was one. All counts go in one script call when the
// keys share a server. On an error, the decisions made before it are
// returned with it (those counts stand), so the caller can count the rest
// elsewhere.
func (c *RedisCounter) takeEach(ctx context.Context, counts []count, now time.Time, out []Decision) ([]Decision, error) {
	if !c.pipeline && (c.oneNode || len(counts) == 1) {
		return c.run(ctx, counts, now, out)
	}
	for i, ct := range counts {
		var err error
		if c.pipeline {
			var d Decision
			if d, err = c.takePipelined(ctx, ct.key, now, ct.rule.limit); err == nil {
				out = append(out, d)
			}
		} else {
			out, err = c.run(ctx, counts[i:i+1], now, out)
		}
		if err != nil || !out[len(out)-1].Allowed {
			return out, err
		}
	}
	return out, nil
}

// run counts counts in one call of takeScript.
func (c *RedisCounter) run(ctx context.Context, counts []count, now time.Time, out []Decision) ([]Decision, error) {
	keys := make([]string, 0, 2*len(counts))
	args := make([]any, 0, 4*len(counts))
	for _, ct := range counts {
		l := ct.rule.limit
		idx, elapsed := window(now, l.Window)
		keys = append(keys, counterKey(ct.key, l.Window, idx), counterKey(ct.key, l.Window, idx-1))
		fixed := ct.rule.args
		if fixed[0] == nil {
			fixed = newScriptArgs(l)
		}
		args = append(args, fixed[0], fixed[1], elapsed, fixed[2])
	}
	res, err := c.batch.run(ctx, c.script, keys, args)
	if err != nil {
		return out, err
	}
	n := len(res) / 3
	if len(res)%3 != 0 || n == 0 || n > len(counts) || n < len(counts) && res[len(res)-3] == 1 {
		return out, fmt.Errorf("ratelimit: unexpected script reply %v", res)
	}
	for i := range n {
		l := counts[i].rule.limit
		idx, elapsed := window(now, l.Window)
		out = append(out, decide(l, res[3*i] == 1, res[3*i+1], res[3*i+2], idx, elapsed))
	}
	return out, nil
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
