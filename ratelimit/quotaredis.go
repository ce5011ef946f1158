package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// quotaScript admits one keyed request against the key's quotas and its
// rate in one atomic step, so instances sharing a Redis share each quota
// exactly. It checks everything first and counts only when all of it leaves
// room: a refused request counts against nothing. The quotas are checked
// before the rate, so a used-up quota is what a refusal reports (its reset
// is the later one).
//
// KEYS[1..3]: the daily, monthly and monthly-bytes counters; KEYS[4..5], for
// a key with a rate: its current and previous window counters (one hash tag,
// so one Cluster slot). ARGV[1..3]: the three quotas (0: off); ARGV[4]: the
// bytes this instance counted and has not flushed yet, so that it sees its
// own responses at once; ARGV[5..6]: when the daily and monthly counters
// expire (Unix ms); ARGV[7..10]: the rate's limit, window ms, elapsed ms
// and expiry ms, as in takeScript.
//
// Returns {refused, curr, prev, daily, monthly, bytes}: refused is 0 when
// admitted, 1..3 the quota that refused, 4 the rate; curr and prev are the
// rate's counts (curr with this request when admitted); the rest are the
// quotas' counts, with this request when admitted.
const quotaScript = `
local used = {0, 0, 0}
local refused = 0
for i = 1, 3 do
  local q = tonumber(ARGV[i])
  if q > 0 then
    used[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
    if i == 3 then
      used[i] = used[i] + tonumber(ARGV[4])
    end
    if refused == 0 and used[i] >= q then
      refused = i
    end
  end
end
local curr, prev = 0, 0
if #KEYS == 5 then
  curr = tonumber(redis.call('GET', KEYS[4]) or '0')
  prev = tonumber(redis.call('GET', KEYS[5]) or '0')
  local limit, window, elapsed = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
  if refused == 0 and prev * (window - elapsed) + (curr + 1) * window > limit * window then
    refused = 4
  end
end
if refused == 0 then
  if #KEYS == 5 then
    curr = redis.call('INCR', KEYS[4])
    if curr == 1 then
      redis.call('PEXPIRE', KEYS[4], ARGV[10])
    end
  end
  for i = 1, 2 do
    if tonumber(ARGV[i]) > 0 then
      used[i] = redis.call('INCR', KEYS[i])
      if used[i] == 1 then
        redis.call('PEXPIREAT', KEYS[i], ARGV[4 + i])
      end
    end
  end
end
return {refused, curr, prev, used[1], used[2], used[3]}
`

// quotaTake is one run of quotaScript: the counts it saw and what refused.
type quotaTake struct {
	used    [nQuotas]int64
	refused int // -1, or the quota that refused
	d       Decision
}

// takeQuota runs quotaScript for one request of key name with rate l (off:
// quotas only) and quotas q; unflushed are name's bytes this month not yet
// flushed from this instance.
func (c *RedisCounter) takeQuota(ctx context.Context, name string, l Limit, q Quota, unflushed int64, cal *calendar, now time.Time) (quotaTake, error) {
	var keyBuf [5]string
	keys := keyBuf[:3]
	for i := range nQuotas {
		keys[i] = quotaKey(name, i, cal.period(i))
	}
	var argBuf [10]any
	args := argBuf[:6]
	args[0], args[1], args[2], args[3] = q.Daily, q.Monthly, q.MonthlyBytes, unflushed
	args[4], args[5] = cal.nextDay.Add(quotaGrace).UnixMilli(), cal.nextMonth.Add(quotaGrace).UnixMilli()
	var idx, elapsed int64
	if !l.Off() {
		idx, elapsed = window(now, l.Window)
		key := "key:" + name
		keys = append(keys, counterKey(key, l.Window, idx), counterKey(key, l.Window, idx-1))
		args = append(args, l.Requests, l.Window.Milliseconds(), elapsed, expiryMS(l.Window))
	}
	res, err := c.batch.run(ctx, c.quota, keys, args)
	if err != nil {
		return quotaTake{}, err
	}
	if len(res) != 6 || res[0] < 0 || res[0] > 4 {
		return quotaTake{}, fmt.Errorf("ratelimit: unexpected quota script reply %v", res)
	}
	t := quotaTake{used: [nQuotas]int64{res[3], res[4], res[5]}, refused: -1}
	if res[0] >= 1 && res[0] <= 3 {
		t.refused = int(res[0] - 1)
	}
	if !l.Off() {
		// Refused by a quota, the rate was not counted: its decision is the
		// one it would make, showing what is left of it.
		t.d = decide(l, res[0] != 4, res[1], res[2], idx, elapsed)
	}
	return t, nil
}

// quotaStatus reads key name's quota counts in one round trip (MGET, all
// keys under one hash tag).
func (c *RedisCounter) quotaStatus(ctx context.Context, name string, cal *calendar) ([nQuotas]int64, error) {
	var keys [nQuotas]string
	for i := range nQuotas {
		keys[i] = quotaKey(name, i, cal.period(i))
	}
	var used [nQuotas]int64
	vals, err := c.client.MGet(ctx, keys[:]...).Result()
	if err != nil {
		return used, err
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			if used[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return used, fmt.Errorf("ratelimit: quota counter %q holds %q", keys[i], s)
			}
		}
	}
	return used, nil
}

// bytesBatch holds the response bytes counted on this instance and not yet
// in Redis. Counting a response's bytes in Redis as it ends would add a
// round trip to every response (the final chunk is written after the
// handler returns); instead they are summed here and flushed, in one
// pipeline, every bytesFlushInterval and on Close. Other instances see a
// response's bytes up to that long after it ended.
type bytesBatch struct {
	mu      sync.Mutex
	pending map[bytesSlot]int64
}

// bytesSlot is a key's monthly bytes counter.
type bytesSlot struct {
	name  string
	month int // 202612
}

// expireAt is when the counter expires in Redis: quotaGrace past its
// month's end.
func (s bytesSlot) expireAt() time.Time {
	return time.Date(s.month/100, time.Month(s.month%100)+1, 1, 0, 0, 0, 0, time.UTC).Add(quotaGrace)
}

// bytesFlushInterval bounds how late other instances see a response's bytes.
const bytesFlushInterval = time.Second

func (b *bytesBatch) add(name string, cal *calendar, n int64) {
	b.mu.Lock()
	if b.pending == nil {
		b.pending = make(map[bytesSlot]int64)
	}
	b.pending[bytesSlot{name, cal.month}] += n
	b.mu.Unlock()
}

// unflushed is name's bytes of month not yet in Redis.
func (b *bytesBatch) unflushed(name string, month int) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pending[bytesSlot{name, month}]
}

// take empties the batch.
func (b *bytesBatch) take() map[bytesSlot]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pending
	b.pending = nil
	return p
}

// flushBytes adds what p holds to the counters in Redis, INCRBY and
// PEXPIREAT per counter in one pipeline.
func (c *RedisCounter) flushBytes(ctx context.Context, p map[bytesSlot]int64) error {
	if len(p) == 0 {
		return nil
	}
	_, err := c.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for s, n := range p {
			k := quotaKey(s.name, qBytes, s.month)
			pipe.IncrBy(ctx, k, n)
			pipe.PExpireAt(ctx, k, s.expireAt())
		}
		return nil
	})
	return err
}
