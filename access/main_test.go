package access

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/internal/redistest"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

// sharedRedisURL is REDIS_URL, or a redis-server TestMain started. Tests
// that stop Redis start their own.
var sharedRedisURL string

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	url, stop, err := redistest.Shared()
	if err != nil {
		fmt.Fprintln(os.Stderr, "access tests need redis-server or REDIS_URL:", err)
		os.Exit(1)
	}
	sharedRedisURL = url
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		stop()
		os.Exit(code)
	}))
}

// redisClient is a client on url with the proxy's own options, flushed of
// the access keys before the test and closed after it.
func redisClient(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func flushAccess(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	if err := c.Del(t.Context(), redisKeys, redisOriginBlocks, redisTargetBlocks, redisSecrets, redisVersion).Err(); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer captures a Guard's log lines.
type syncBuffer struct{ logbuf.Buffer }

func (b *syncBuffer) count(s string) int { return strings.Count(b.String(), s) }

func (b *syncBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// eventually retries check until it returns "" or the deadline passes.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// codeOf is the refusal's code, or "ok".
func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(*Error); ok {
		return string(e.Code)
	}
	return "not an *Error: " + err.Error()
}

const (
	secretA = "first-secret-for-tests-0123456789abcdef"
	secretB = "second-secret-for-tests-0123456789abcdef"
)

// quietRedis silences go-redis's own logging (reconnect chatter while tests
// stop Redis on purpose).
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
