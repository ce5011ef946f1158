package usage

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// sharedRedisURL is REDIS_URL, or a redis-server TestMain started.
var sharedRedisURL string

// quiet drops go-redis's own log lines: a test stops Redis on purpose.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	url, stop, err := redistest.Shared()
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage tests need redis-server or REDIS_URL:", err)
		os.Exit(1)
	}
	sharedRedisURL = url
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		stop()
		os.Exit(code)
	}))
}

// testClient is a client on url, closed when the test ends; it counts the
// round trips it makes.
func testClient(t testing.TB, url string) (redis.UniversalClient, *roundTrips) {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis %s: %v", url, err)
	}
	rt := &roundTrips{}
	c.AddHook(rt)
	return c, rt
}

var nameSeq atomic.Int64

// uniqueName is a credential name no other test or earlier run used.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), nameSeq.Add(1))
}

// newLedger opens a ledger that the test closes at its end.
func newLedger(t *testing.T, cfg Config) *Ledger {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// roundTrips counts a client's commands and pipelines: each is one round trip.
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
