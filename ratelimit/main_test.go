package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// sharedRedisURL is the Redis every test may use: REDIS_URL, or a
// redis-server TestMain started. Tests that stop Redis start their own.
var sharedRedisURL string

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests stop Redis on purpose.
	redis.SetLogger(RedisLog{Logger: slog.New(slog.DiscardHandler)})
	var srv *redisServer
	sharedRedisURL = os.Getenv("REDIS_URL")
	if sharedRedisURL == "" {
		var err error
		if srv, err = startRedisServer(0); err != nil {
			fmt.Fprintln(os.Stderr, "ratelimit tests need redis-server (apt-get install -y redis-server) or REDIS_URL:", err)
			os.Exit(1)
		}
		sharedRedisURL = srv.url()
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if srv != nil {
			srv.stop()
		}
		os.Exit(code)
	}))
}

// redisServer is a redis-server child process on a loopback port.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

// startRedisServer starts redis-server on port, or on a free port when 0,
// and waits until it answers.
func startRedisServer(port int) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &redisServer{port: port, cmd: cmd}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr(), 100*time.Millisecond)
		if err == nil {
			fmt.Fprint(c, "PING\r\n")
			buf := make([]byte, 7)
			c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }
func (s *redisServer) url() string  { return "redis://" + s.addr() }

// stop kills the server and waits for it, as a crash would.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// dedicatedRedis starts a redis-server only this test uses, so it can be
// stopped and restarted on the same port.
func dedicatedRedis(t *testing.T) *redisServer {
	t.Helper()
	s, err := startRedisServer(0)
	if err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

// restart starts the server again on its port.
func (s *redisServer) restart(t *testing.T) {
	t.Helper()
	n, err := startRedisServer(s.port)
	if err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	s.cmd = n.cmd
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
