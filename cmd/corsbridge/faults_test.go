package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

// buildBinary builds the real corsbridge binary, so the signal tests
// exercise main() itself. The build cache makes repeated builds cheap.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "corsbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type process struct {
	cmd    *exec.Cmd
	base   string
	stderr *logbuf.Buffer
	exited chan error
}

// startProcess runs the built binary on a free loopback port.
func startProcess(t *testing.T, env ...string) *process {
	t.Helper()
	bin := buildBinary(t)
	p := &process{stderr: &logbuf.Buffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "--addr", "127.0.0.1:0")
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for p.base == "" {
		for line := range strings.SplitSeq(p.stderr.String(), "\n") {
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				p.base = "http://" + entry.Addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("corsbridge did not start:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// TestSignalDrainsInFlightRequests: on SIGTERM or SIGINT (Fly.io's), the
// process stops accepting, lets in-flight requests finish, and exits 0.
func TestSignalDrainsInFlightRequests(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			upstream := newHoldingUpstream(t)
			p := startProcess(t, "CORSBRIDGE_ALLOW_PRIVATE=127.0.0.0/8", "CORSBRIDGE_SHUTDOWN_GRACE=10s")

			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			result := fetchInBackground(client, p.base+"/"+upstream.URL+"/slow")
			upstream.waitStarted(t)
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(p.stderr.String(), "shutting down") {
				if time.Now().After(deadline) {
					t.Fatalf("no drain after %v:\n%s", sig, p.stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			// The listener is closed: new connections are refused.
			deadline = time.Now().Add(2 * time.Second)
			for {
				conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.base, "http://"), 200*time.Millisecond)
				if err != nil {
					break
				}
				conn.Close()
				if time.Now().After(deadline) {
					t.Fatal("new connections still accepted while draining")
				}
				time.Sleep(20 * time.Millisecond)
			}
			upstream.release()
			if got := <-result; got != "finished" {
				t.Errorf("in-flight request: %q", got)
			}
			select {
			case err := <-p.exited:
				if err != nil {
					t.Errorf("exit: %v, want status 0\n%s", err, p.stderr.String())
				}
				p.exited <- nil
			case <-time.After(5 * time.Second):
				t.Fatal("the process did not exit after its last request finished")
			}
		})
	}
}

func TestBadConfigExitsWithStatus2(t *testing.T) {
	cmd := exec.Command(buildBinary(t), "--max-redirects", "lots")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errorsAs(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2", err)
	}
	if !strings.Contains(stderr.String(), "--max-redirects") {
		t.Errorf("message does not name the setting: %s", stderr.String())
	}
}

func TestSlowlorisHeadersAreCut(t *testing.T) {
	inst := start(t, nil, "--read-header-timeout", "300ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(inst.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
		close(closed)
	}()
	start := time.Now()
	for {
		select {
		case <-closed:
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("closed only after %v", d)
			}
			return
		case <-time.After(100 * time.Millisecond):
			if _, err := io.WriteString(conn, "X-Dribble: a\r\n"); err != nil {
				return // the server closed the connection
			}
			if time.Since(start) > 10*time.Second {
				t.Fatal("a dribbling client is still connected after 10s")
			}
		}
	}
}

func TestStalledConnectionsDoNotStarveOthers(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	inst := start(t, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8", "CORSBRIDGE_CLIENT_RATE_LIMIT": "off"})
	addr := strings.TrimPrefix(inst.base, "http://")
	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for range 300 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("stalled connection: %v", err)
		}
		_, _ = io.WriteString(c, "GET /http://example.com/ HTTP/1.1\r\nHost: x\r\n") // and nothing more
		stalled = append(stalled, c)
	}
	var slowest time.Duration
	for range 20 {
		start := time.Now()
		status, body := get(t, inst.base+"/"+upstream.URL+"/", "https://a.example")
		if status != 200 || body != "ok" {
			t.Fatalf("normal request among stalled ones: %d %q", status, body)
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("slowest of 20 requests beside 300 stalled connections: %v", slowest)
	if slowest > 5*time.Second {
		t.Errorf("a normal request took %v beside stalled connections", slowest)
	}
}

func TestHostileBytesOnThePort(t *testing.T) {
	inst := start(t, nil)
	addr := strings.TrimPrefix(inst.base, "http://")
	tests := map[string][]byte{
		"2 MiB header":     []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"),
		"garbage":          []byte("\x00\x01\x02 garbage \xff\xfe\r\n\r\n"),
		"TLS client hello": {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00, 0x01, 0x02, 0x03},
		"bare newlines":    []byte("\n\n\n\n"),
		"HTTP/2 preface":   []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			go func() { _, _ = conn.Write(payload) }()
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			if line != "" && !strings.HasPrefix(line, "HTTP/1.") {
				t.Errorf("answer %q", line)
			}
			if name == "2 MiB header" && !strings.Contains(line, "431") {
				t.Errorf("2 MiB header: %q, want 431", line)
			}
			// The process is fine.
			if status, _ := get(t, inst.base+"/healthz", ""); status != 200 {
				t.Fatalf("healthz after %s: %d", name, status)
			}
		})
	}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
