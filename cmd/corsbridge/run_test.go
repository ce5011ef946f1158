package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The in-process ACME CA's validation authority (internal/acmetest)
		// reads its task queue for ever; autocert tidies up after an
		// order in the background.
		goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks"),
		goleak.IgnoreAnyFunction("golang.org/x/crypto/acme/autocert.(*Manager).deactivatePendingAuthz"),
		goleak.IgnoreAnyFunction("golang.org/x/crypto/acme/autocert.(*Manager).deleteCertToken"),
		goleak.IgnoreAnyFunction("golang.org/x/crypto/acme/autocert.(*Manager).deleteHTTPToken"),
	)
}

type instance struct {
	base   string
	logs   *logbuf.Buffer
	cancel context.CancelFunc
	done   chan error
}

// start runs the binary in-process on a free loopback port and waits until
// /healthz answers.
func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	args = append([]string{"--addr", "127.0.0.1:0", "--shutdown-grace", "5s"}, args...)
	return launch(t, env, args, 10*time.Second, func(inst *instance, line string) string {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &entry) != nil || entry.Msg != "listening" {
			return ""
		}
		inst.base = "http://" + entry.Addr
		return inst.base + "/healthz"
	})
}

// launch runs the binary in-process with args and waits, up to wait, until
// the health URL that listening reads from a log line (noting what it needs
// in inst) answers 200. It fails the test if run exits first.
func launch(t *testing.T, env map[string]string, args []string, wait time.Duration, listening func(inst *instance, logLine string) (healthURL string)) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logbuf.Buffer{}
	inst := &instance{logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { inst.done <- run(ctx, args, envOf(env), nil, io.Discard, logs) }()
	t.Cleanup(func() { inst.stop(t) })

	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		health := ""
		for line := range strings.SplitSeq(logs.String(), "\n") {
			if u := listening(inst, line); u != "" {
				health = u
			}
		}
		if health != "" {
			if res, err := http.Get(health); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return inst
				}
			}
		}
		select {
		case err := <-inst.done:
			t.Fatalf("run exited early: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("corsbridge did not become healthy:\n%s", logs.String())
	return nil
}

func (inst *instance) stop(t *testing.T) {
	t.Helper()
	inst.cancel()
	select {
	case err, ok := <-inst.done:
		if ok && err != nil {
			t.Errorf("run returned %v", err)
		}
		close(inst.done)
	case <-time.After(10 * time.Second):
		t.Errorf("run did not return after cancel")
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestRunServesAndProxies(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		_, _ = io.WriteString(w, "hello from upstream")
	}))
	defer upstream.Close()
	inst := start(t, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8"})

	req, _ := http.NewRequest("GET", inst.base+"/"+upstream.URL+"/x", nil)
	req.Header.Set("Origin", "https://app.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hello from upstream" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d body %q headers %v", res.StatusCode, body, res.Header)
	}
	// The log is buffered: the line arrives within the flush interval.
	waitForLog(t, inst, `"target_host":"`+strings.TrimPrefix(upstream.URL, "http://"))

	res, err = http.Get(inst.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "corsbridge") {
		t.Errorf("landing page: %d %.200s", res.StatusCode, body)
	}
}

func TestRunDefaultRefusesLoopbackTargets(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the upstream on loopback was reached with the default policy")
	}))
	defer upstream.Close()
	inst := start(t, nil)
	req, _ := http.NewRequest("GET", inst.base+"/"+upstream.URL+"/", nil)
	req.Header.Set("Origin", "https://app.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 || res.Header.Get("X-Corsbridge-Error") != "target_forbidden" {
		t.Errorf("status %d code %q", res.StatusCode, res.Header.Get("X-Corsbridge-Error"))
	}
}

func TestRunRefusesItself(t *testing.T) {
	inst := start(t, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8"})
	req, _ := http.NewRequest("GET", inst.base+"/"+inst.base+"/healthz", nil)
	req.Header.Set("Origin", "https://app.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("proxying to its own address: status %d, want 403", res.StatusCode)
	}
}

func TestRunGracefulShutdownFinishesInFlight(t *testing.T) {
	upstream := newHoldingUpstream(t)
	inst := start(t, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8"})

	result := fetchInBackground(http.DefaultClient, inst.base+"/"+upstream.URL+"/")
	upstream.waitStarted(t)
	inst.cancel()
	waitFor(t, func() bool { return strings.Contains(inst.logs.String(), "shutting down") })

	// Draining: readiness fails, new connections are refused once the
	// listener is closed.
	if _, err := http.Get(inst.base + "/healthz"); err == nil {
		t.Errorf("a new connection was accepted while draining")
	}
	upstream.release()
	if got := <-result; got != "finished" {
		t.Errorf("in-flight request got %q", got)
	}
	select {
	case err := <-inst.done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
		inst.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after the in-flight request finished")
	}
}

// holdingUpstream answers "finished" to each request only once released,
// so a test can act while a request is in flight.
type holdingUpstream struct {
	*httptest.Server
	started chan struct{}
	release func()
}

func newHoldingUpstream(t *testing.T) *holdingUpstream {
	t.Helper()
	released := make(chan struct{})
	u := &holdingUpstream{started: make(chan struct{}, 1)}
	u.release = sync.OnceFunc(func() { close(released) })
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.started <- struct{}{}
		<-released
		_, _ = io.WriteString(w, "finished")
	}))
	t.Cleanup(func() { u.release(); u.Close() })
	return u
}

func (u *holdingUpstream) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-u.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the upstream")
	}
}

// fetchInBackground GETs url with an Origin and delivers the body, or the
// error, when the response completes.
func fetchInBackground(client *http.Client, url string) <-chan string {
	result := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Origin", "https://app.example")
		res, err := client.Do(req)
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		result <- string(body)
	}()
	return result
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForLog waits until the instance's log holds want. Info lines are
// buffered and arrive within the flush interval (see logWriter).
func waitForLog(t *testing.T, inst *instance, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(inst.logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the log after 5s:\n%s", want, inst.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncLog makes sure every line the instance logged so far is in inst.logs:
// it sends a request with its own X-Request-Id and waits for that request's
// line, which the buffered log writes after all earlier ones.
func syncLog(t *testing.T, inst *instance) {
	t.Helper()
	id := fmt.Sprintf("log-sync-%d", time.Now().UnixNano())
	req, _ := http.NewRequest("GET", inst.base+"/healthz", nil)
	req.Header.Set("X-Request-Id", id)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	waitForLog(t, inst, `"client_request_id":"`+id+`"`)
}

func TestRunBadConfigIsUsageError(t *testing.T) {
	err := run(context.Background(), []string{"--max-redirects", "many"}, envOf(nil), nil, io.Discard, io.Discard)
	var usage *usageError
	if !errors.As(err, &usage) {
		t.Fatalf("err = %v, want a usage error (exit status 2)", err)
	}
}

func TestRunHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "CORSBRIDGE_MAX_REDIRECTS") {
		t.Errorf("help output: %s", out.String())
	}
}

func TestRunOversizedHeadersAre431(t *testing.T) {
	inst := start(t, nil, "--max-header-bytes", "8KiB")
	req, _ := http.NewRequest("GET", inst.base+"/https://api.example.com/", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", res.StatusCode)
	}
	// The process is fine afterwards.
	res, err = http.Get(inst.base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz after 431: %v", err)
	}
	res.Body.Close()
}
