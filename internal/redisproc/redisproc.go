// Package redisproc runs redis-server as a child process on a loopback
// port: started, waited for until it answers PING, stopped. It is the one
// Redis launcher of the repository: the test harness (internal/redistest)
// and the development tools (soak, bench) all start Redis through it, and
// it does not import testing, so tools can link it into a binary.
package redisproc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/corsbridge/corsbridge/internal/loopback"
)

// DefaultStartTimeout is how long Start waits for the first PONG.
const DefaultStartTimeout = 5 * time.Second

// Config says how to run redis-server. The zero value is a fresh,
// persistence-free server on a free port.
type Config struct {
	// Port to listen on; 0 asks the kernel for a free one.
	Port int
	// Binary is the redis-server to run; empty looks it up in PATH.
	Binary string
	// Args go first on the command line, so a config file may lead them
	// (redis-server FILE --sentinel); the loopback bind, the port and
	// "no persistence" follow and win over anything in such a file.
	Args []string
	// Wrap prefixes the command, e.g. taskset -c 1 to pin it to a CPU.
	Wrap []string
	// Output receives redis-server's stdout and stderr; nil discards them.
	Output io.Writer
	// StartTimeout bounds the wait for PONG; 0 is DefaultStartTimeout.
	StartTimeout time.Duration
}

// Validate reports settings no redis-server could start with.
func (c Config) Validate() error {
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("port %d is not in 0..65535", c.Port)
	case c.StartTimeout < 0:
		return errors.New("start timeout must not be negative")
	}
	return nil
}

// Server is a running redis-server child on 127.0.0.1.
type Server struct {
	cfg Config // Port fixed at the first start, so Restart reuses it
	cmd *exec.Cmd
	dir string // its working directory, removed when it stops
}

// Start runs redis-server as cfg says and waits until it answers PING. It
// fails when redis-server is not installed, when the process exits during
// start-up (the port was taken), or when it does not answer in time.
func Start(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	bin := cfg.Binary
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s not found (apt-get install -y redis-server): %w", bin, err)
	}
	cfg.Binary = path
	if cfg.Port == 0 {
		if cfg.Port, err = loopback.FreePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{cfg: cfg}
	return s, s.start()
}

func (s *Server) start() error {
	// Something already answering there would pass the PING wait below
	// for a server that never bound the port.
	if c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("port %d is already in use", s.cfg.Port)
	}
	argv := append([]string{}, s.cfg.Wrap...)
	argv = append(argv, s.cfg.Binary)
	argv = append(argv, s.cfg.Args...)
	// A directory of its own: even without persistence Redis writes files
	// (a replica's copy of its master, SAVE, a cluster's node table), and
	// they must never land in the caller's working directory, which for
	// tests is the source tree.
	dir, err := os.MkdirTemp("", "redisproc-")
	if err != nil {
		return err
	}
	s.dir = dir
	argv = append(argv, "--port", strconv.Itoa(s.cfg.Port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = s.cfg.Output, s.cfg.Output
	// The child inherits the write end of a pipe and holds it until it
	// exits, so a read on our end that ends in EOF means it died during
	// start-up. A goroutine in cmd.Wait would do the same but outlive
	// Start, and test binaries check that no goroutine is left behind.
	exitR, exitW, err := os.Pipe()
	if err != nil {
		s.removeDir()
		return err
	}
	defer exitR.Close()
	cmd.ExtraFiles = []*os.File{exitW}
	err = cmd.Start()
	exitW.Close()
	if err != nil {
		s.removeDir()
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(s.cfg.StartTimeout)
	for !Ping(s.Addr()) {
		_ = exitR.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := exitR.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			_ = cmd.Wait()
			s.cmd = nil
			s.removeDir()
			return fmt.Errorf("redis-server exited during start-up on port %d (bad arguments?)", s.cfg.Port)
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on port %d did not answer PING within %v", s.cfg.Port, s.cfg.StartTimeout)
		}
	}
	return nil
}

// Addr is 127.0.0.1:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.cfg.Port) }

// URL is the redis:// URL of database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Port is the port it listens on.
func (s *Server) Port() int { return s.cfg.Port }

// Pid is the process id while it runs, else 0.
func (s *Server) Pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop kills the server and waits for it, as a crash would: tests use it to
// prove what happens when Redis goes away. Stopping twice is harmless.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
	s.removeDir()
}

func (s *Server) removeDir() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// Restart starts the server again on the same port, empty: its directory
// went with it.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// Ping reports whether a Redis answers PING at addr within a second. It
// speaks the protocol directly so this package needs no client library.
func Ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := io.ReadFull(c, buf)
	return string(buf[:n]) == "+PONG\r\n"
}
