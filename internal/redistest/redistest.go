// Package redistest runs a real redis-server on a loopback port for tests.
// Tests use a real Redis over a real connection, never a mock.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Server is a redis-server child process on 127.0.0.1.
type Server struct {
	port int
	cmd  *exec.Cmd
}

// Start starts redis-server on port, or on a free port when 0, and waits
// until it answers PING. It fails when redis-server is not installed: the
// tests need it (apt-get install -y redis-server, or set REDIS_URL).
func Start(port int) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found (apt-get install -y redis-server, or set REDIS_URL): %w", err)
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
	s := &Server{port: port, cmd: cmd}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s.ping() {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c, "PING\r\n"); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis:// URL of database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Stop kills the server and waits for it, as a crash would.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() error {
	n, err := Start(s.port)
	if err != nil {
		return err
	}
	s.cmd = n.cmd
	return nil
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
