package e2e

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

// proxy is one corsbridge process, listening on 127.0.0.1.
type proxy struct {
	URL  string // http://127.0.0.1:<port>
	logs *logbuf.Buffer
	cmd  *exec.Cmd
	done chan error
}

// startProxy runs the built binary with a clean environment plus env
// (KEY=value), on a free port of 127.0.0.1, and waits until /healthz answers.
// The process gets SIGTERM when t ends and must exit 0 in time.
func startProxy(t *testing.T, env ...string) *proxy {
	t.Helper()
	p := &proxy{logs: &logbuf.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(e2e.bin)
	// Nothing from the developer's environment (REDIS_URL, CORSBRIDGE_*)
	// may change what the scenario runs against.
	p.cmd.Env = append([]string{
		"CORSBRIDGE_ADDR=127.0.0.1:0",
		"CORSBRIDGE_LOG_FORMAT=json",
		"CORSBRIDGE_SHUTDOWN_GRACE=5s",
	}, env...)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start corsbridge: %v", err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p.URL == "" {
			p.URL = p.listening()
		}
		if p.URL != "" && p.healthy() {
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("corsbridge exited early (%v):\n%s", err, p.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("corsbridge did not become healthy:\n%s", p.logs)
	return nil
}

// listening reads the address from the "listening" log line.
func (p *proxy) listening() string {
	for line := range strings.SplitSeq(p.logs.String(), "\n") {
		var entry struct {
			Msg, Addr string
			TLS       *struct{ Mode string } `json:"tls"` // present when serving HTTPS
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" && entry.Addr != "" {
			if entry.TLS != nil {
				return "https://" + entry.Addr
			}
			return "http://" + entry.Addr
		}
	}
	return ""
}

func (p *proxy) healthy() bool {
	// Over HTTPS the proxy's test certificate is self-signed: this probe
	// only asks whether it answers.
	client := http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := client.Get(p.URL + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// stop sends SIGTERM and waits for a clean exit, as a platform would.
func (p *proxy) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("corsbridge did not exit cleanly after SIGTERM: %v\n%s", err, p.logs)
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("corsbridge still running 10s after SIGTERM; killed\n%s", p.logs)
	}
	if t.Failed() {
		t.Logf("corsbridge log:\n%s", p.logs)
	}
}

// requests returns the request log lines, decoded.
func (p *proxy) requests() []logLine {
	var lines []logLine
	for line := range strings.SplitSeq(p.logs.String(), "\n") {
		var l logLine
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" {
			lines = append(lines, l)
		}
	}
	return lines
}

// logLine is the part of corsbridge's request log the tests look at.
type logLine struct {
	Msg    string `json:"msg"`
	Method string `json:"method"`
	Origin string `json:"origin"`
	Status int    `json:"status"`
	Target string `json:"target_host"`
}
