package usage

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis layout. One hash per name and day, its fields "requests", "bytes"
// and "refused:<code>", under the name as hash tag so that a name's days
// share a Redis Cluster slot; and one set per day of the names used that
// day, so `admin usage` can list them without scanning. Both expire
// Retention after their last write: they have a TTL, so a volatile-*
// eviction policy may drop them under memory pressure, as it may drop rate
// counters and cached responses, and never access keys, which have none.
const (
	redisPrefix    = "corsbridge:usage:"
	fieldRequests  = "requests"
	fieldBytes     = "bytes"
	fieldRefused   = "refused:"
	redisNamesPart = "names:"
)

func redisKey(name string, day date) string { return redisPrefix + "{" + name + "}:" + day.String() }
func redisNamesKey(day date) string         { return redisPrefix + redisNamesPart + day.String() }
func (s *redisStore) backend() string       { return "redis" }

// redisStore keeps the figures in the Redis the instances share, so they
// sum across instances.
type redisStore struct{ rdb redis.UniversalClient }

// queued is one command of a flush and what to keep if it fails.
type queued struct {
	cmd   redis.Cmder
	e     entry
	field string // "" for the names set
	n     int64
}

// add is one pipelined round trip: HINCRBY per figure, SADD per day's
// names, EXPIRE on each. It is not a transaction (the keys span slots): a
// command that failed is handed back for the next flush, and one whose reply
// was lost after Redis applied it is counted again then.
func (s *redisStore) add(ctx context.Context, t tally, _ time.Time) (tally, error) {
	pipe := s.rdb.Pipeline()
	var cmds []queued
	for e, c := range t {
		key := redisKey(e.name, e.day)
		incr := func(field string, n int64) {
			if n != 0 {
				cmds = append(cmds, queued{pipe.HIncrBy(ctx, key, field, n), e, field, n})
			}
		}
		incr(fieldRequests, c.Requests)
		incr(fieldBytes, c.Bytes)
		for code, n := range c.Refused {
			incr(fieldRefused+code, n)
		}
		pipe.Expire(ctx, key, Retention)
		cmds = append(cmds, queued{pipe.SAdd(ctx, redisNamesKey(e.day), e.name), e, "", 0})
		pipe.Expire(ctx, redisNamesKey(e.day), Retention)
	}
	_, err := pipe.Exec(ctx)
	if err == nil {
		return nil, nil
	}
	failed := tally{}
	for _, q := range cmds {
		if q.cmd.Err() == nil {
			continue
		}
		var c Counts
		switch {
		case q.field == fieldRequests:
			c.Requests = q.n
		case q.field == fieldBytes:
			c.Bytes = q.n
		case strings.HasPrefix(q.field, fieldRefused):
			c.Refused = map[string]int64{strings.TrimPrefix(q.field, fieldRefused): q.n}
		}
		// A failed SADD is retried as an entry of zero counts: its
		// figures went in, its name must still be listed.
		failed.add(q.e, c)
	}
	return failed, err
}

func (s *redisStore) read(ctx context.Context, names []string, days []date) (tally, error) {
	if names == nil {
		var err error
		if names, err = s.names(ctx, days); err != nil {
			return nil, err
		}
	}
	pipe := s.rdb.Pipeline()
	cmds := make(map[entry]*redis.MapStringStringCmd, len(names)*len(days))
	for _, name := range names {
		for _, d := range days {
			cmds[entry{name, d}] = pipe.HGetAll(ctx, redisKey(name, d))
		}
	}
	if len(cmds) == 0 {
		return tally{}, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	out := tally{}
	for e, cmd := range cmds {
		if h := cmd.Val(); len(h) > 0 {
			out.add(e, parseHash(h))
		}
	}
	return out, nil
}

// names is the union of the days' name sets.
func (s *redisStore) names(ctx context.Context, days []date) ([]string, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(days))
	for i, d := range days {
		cmds[i] = pipe.SMembers(ctx, redisNamesKey(d))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	seen := map[string]bool{}
	names := []string{}
	for _, c := range cmds {
		for _, n := range c.Val() {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// parseHash reads a usage hash. A field it does not know, or whose value is
// not a whole number, is skipped: someone else's write must not hide the
// rest.
func parseHash(h map[string]string) Counts {
	var c Counts
	for field, v := range h {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch {
		case field == fieldRequests:
			c.Requests = n
		case field == fieldBytes:
			c.Bytes = n
		case strings.HasPrefix(field, fieldRefused) && len(field) > len(fieldRefused):
			if c.Refused == nil {
				c.Refused = map[string]int64{}
			}
			c.Refused[strings.TrimPrefix(field, fieldRefused)] = n
		}
	}
	return c
}
