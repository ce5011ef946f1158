package redisproc

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// do sends one command in Redis's inline form and returns the first line
// of the answer (for a bulk string, the string itself).
func do(t *testing.T, addr, command string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "%s\r\n", command)
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatalf("%s: %v", command, err)
		}
	}
	if strings.HasPrefix(line, "*") { // CONFIG GET: name, then value
		_, _ = r.ReadString('\n')
		_, _ = r.ReadString('\n')
		_, _ = r.ReadString('\n')
		line, _ = r.ReadString('\n')
	}
	return strings.TrimSuffix(line, "\r\n")
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start(%+v): %v", cfg, err)
	}
	t.Cleanup(s.Stop)
	return s
}

func TestStartAnswersOnLoopback(t *testing.T) {
	s := start(t, Config{})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Port() == 0 {
		t.Errorf("Addr = %q, Port = %d; want a loopback port", s.Addr(), s.Port())
	}
	if s.URL() != "redis://"+s.Addr() {
		t.Errorf("URL = %q", s.URL())
	}
	if got := do(t, s.Addr(), "SET k v"); got != "+OK" {
		t.Errorf("SET = %q", got)
	}
	if got := do(t, s.Addr(), "GET k"); got != "v" {
		t.Errorf("GET = %q, want v", got)
	}
	if s.Pid() == 0 {
		t.Error("Pid = 0 while running")
	}
}

func TestStopThenRestartComesBackEmptyOnTheSamePort(t *testing.T) {
	s := start(t, Config{})
	port := s.Port()
	do(t, s.Addr(), "SET k v")
	s.Stop()
	if Ping(s.Addr()) {
		t.Fatal("still answers after Stop")
	}
	if s.Pid() != 0 {
		t.Error("Pid after Stop is not 0")
	}
	s.Stop() // twice is harmless
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Port() != port {
		t.Errorf("restarted on port %d, want %d", s.Port(), port)
	}
	if got := do(t, s.Addr(), "GET k"); got != "$-1" {
		t.Errorf("GET after restart = %q, want nil: nothing kept on disk", got)
	}
}

func TestArgsReachRedis(t *testing.T) {
	s := start(t, Config{Args: []string{"--maxmemory", "1mb"}})
	if got := do(t, s.Addr(), "CONFIG GET maxmemory"); got != "1048576" {
		t.Errorf("maxmemory = %q, want 1048576", got)
	}
	if got := do(t, s.Addr(), "CONFIG GET save"); got != "" {
		t.Errorf("save = %q, want empty (no persistence)", got)
	}
}

func TestWrapRunsThePrefix(t *testing.T) {
	// env(1) runs its arguments: the prefix is in the command line, and
	// the server it starts is the one answering.
	s := start(t, Config{Wrap: []string{"env", "CORSBRIDGE_REDISPROC_TEST=1"}})
	if !Ping(s.Addr()) {
		t.Error("wrapped redis-server does not answer")
	}
}

func TestStartFails(t *testing.T) {
	busy := start(t, Config{})
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no such binary", Config{Binary: "/nonexistent/redis-server"}, "not found"},
		{"port out of range", Config{Port: 70000}, "not in 0..65535"},
		{"negative timeout", Config{StartTimeout: -time.Second}, "negative"},
		{"port taken", Config{Port: busy.Port()}, "already in use"},
		{"bad argument", Config{Args: []string{"--no-such-directive", "x"}}, "exited during start-up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			s, err := Start(tt.cfg)
			if err == nil {
				s.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if time.Since(began) > DefaultStartTimeout {
				t.Errorf("took %v: a failed start must not wait out the timeout", time.Since(began))
			}
		})
	}
}

func TestPingRefusesWhatIsNotRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
		c.Close()
	}()
	if Ping(ln.Addr().String()) {
		t.Error("Ping accepted an HTTP server")
	}
}

// Whatever Redis writes lands in a directory of its own, never in the
// caller's working directory (for tests, the source tree), and goes when
// the server stops.
func TestFilesStayOutOfTheWorkingDirectory(t *testing.T) {
	s := start(t, Config{})
	dir := do(t, s.Addr(), "CONFIG GET dir")
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" || dir == cwd || !strings.HasPrefix(dir, os.TempDir()) {
		t.Fatalf("dir = %q; want a directory of its own under %s", dir, os.TempDir())
	}
	if got := do(t, s.Addr(), "SAVE"); got != "+OK" {
		t.Fatalf("SAVE = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Errorf("SAVE wrote no dump.rdb in %s: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(cwd, "dump.rdb")); err == nil {
		t.Errorf("dump.rdb in the working directory %s", cwd)
	}
	s.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Stop: %v", dir, err)
	}
}
