package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// sharedRedisURL is the Redis every test may use: REDIS_URL, or a
// redis-server TestMain started. Tests that stop Redis start their own.
var sharedRedisURL string

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests stop Redis on purpose.
	redis.SetLogger(RedisLog{Logger: slog.New(slog.DiscardHandler)})
	url, stop, err := redistest.Shared()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratelimit tests need redis-server or REDIS_URL:", err)
		os.Exit(1)
	}
	sharedRedisURL = url
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		stop()
		os.Exit(code)
	}))
}

// restartRedis starts srv again on its port, empty.
func restartRedis(t *testing.T, srv *redistest.Server) {
	t.Helper()
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
}

// testClient is a go-redis client on url with the package's options, closed
// when the test ends.
func testClient(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	opts, err := ParseRedisURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewUniversalClient(opts)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis %s: %v", url, err)
	}
	return c
}

// uniqueKey makes counter keys that no other test or earlier run uses.
var keySeq atomic.Int64

func uniqueKey(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), keySeq.Add(1))
}

// roundTrips counts the commands and pipelines a client sends: each is one
// network round trip.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}
