// Package redistest runs a real redis-server on a loopback port for tests.
// Tests use a real Redis over a real connection, never a mock.
package redistest

import (
	"os"
	"testing"

	"github.com/corsbridge/corsbridge/internal/redisproc"
)

// Server is a redis-server child process on 127.0.0.1, run by
// internal/redisproc, the one Redis launcher.
type Server = redisproc.Server

// Start starts redis-server on port, or on a free port when 0, and waits
// until it answers PING. It fails when redis-server is not installed: the
// tests need it (apt-get install -y redis-server, or set REDIS_URL).
func Start(port int) (*Server, error) {
	return redisproc.Start(redisproc.Config{Port: port})
}

// Dedicated starts a server only this test uses, so it can be stopped and
// restarted; it is stopped when the test ends.
func Dedicated(t testing.TB) *Server {
	t.Helper()
	s, err := Start(0)
	if err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Shared is the Redis a test binary's TestMain hands to all its tests:
// REDIS_URL when set, else a redis-server started here. stop ends what
// Shared started (nothing for REDIS_URL).
func Shared() (url string, stop func(), err error) {
	if url := os.Getenv("REDIS_URL"); url != "" {
		return url, func() {}, nil
	}
	s, err := Start(0)
	if err != nil {
		return "", nil, err
	}
	return s.URL(), s.Stop, nil
}
