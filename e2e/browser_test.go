package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is one headless chromium shared by every test; each test gets its
// own tab in its own browser context (separate cache, cookies and preflight
// cache), so tests cannot see each other's state.
type browser struct {
	root   context.Context // holds the browser; its first tab stays blank
	cancel context.CancelFunc
	sink   *sink
}

// errNoChromium: no browser is installed. Only this lets a test skip, and
// only outside CI; a browser that is there but fails is a failure.
var errNoChromium = errors.New("chromium not found on PATH")

// chromiumPath finds the browser: CORSBRIDGE_E2E_CHROMIUM, else chromium on
// PATH (Debian's package installs /usr/bin/chromium).
func chromiumPath() (string, error) {
	if p := os.Getenv("CORSBRIDGE_E2E_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", errNoChromium
	}
	return p, nil
}

// browserFlags keep chromium on loopback. Background services are off;
// the two that ignore --disable-background-networking here (Google account
// checks and on-demand component installs) are pointed at the sink by URL.
// Everything else that is not loopback goes to the sink as a proxy, which
// refuses it and records it: chromium sends loopback addresses direct even
// with a proxy set, and never falls back to a direct connection when the
// proxy refuses. No name resolves except the loopback ones the tests use, in
// case some path skips the proxy.
func browserFlags(exe, profile, sinkAddr string) []chromedp.ExecAllocatorOption {
	sinkURL := "http://" + sinkAddr
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"+
			"AutofillServerCommunication,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying"),
		chromedp.Flag("gaia-url", sinkURL),
		chromedp.Flag("component-updater", "url-source="+sinkURL+"/component-updater"),
		chromedp.ProxyServer(sinkURL),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, "+
			"EXCLUDE "+upstreamIP+", EXCLUDE "+pageIP+", EXCLUDE "+refusedIP),
		chromedp.WindowSize(1280, 900),
	)
}

// startBrowser starts chromium with a fresh profile in profile.
func startBrowser(profile string) (*browser, error) {
	exe, err := chromiumPath()
	if err != nil {
		return nil, err
	}
	s, err := startSink()
	if err != nil {
		return nil, err
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), browserFlags(exe, profile, s.addr())...)
	root, rootCancel := chromedp.NewContext(allocCtx)
	b := &browser{root: root, sink: s, cancel: func() {
		rootCancel()
		allocCancel()
	}}
	// The first action starts the browser, bound to the context it runs on:
	// it must be root itself, not a shorter-lived child.
	if err := chromedp.Do(root, chromedp.Navigate("about:blank")); err != nil {
		_ = b.close()
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	return b, nil
}

// close stops the browser and the sink, and reports anything chromium tried
// to send beyond loopback while no test was watching.
func (b *browser) close() error {
	err := chromedp.Cancel(b.root)
	b.cancel()
	b.sink.close()
	if held := b.sink.held(); len(held) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: chromium sent %d background requests to the loopback sink: %s\n",
			len(held), strings.Join(held, "; "))
	}
	if hits := b.sink.take(); len(hits) > 0 {
		err = errors.Join(err, fmt.Errorf("chromium tried to reach beyond loopback: %s", strings.Join(hits, "; ")))
	}
	return err
}

// tab opens a new tab in a new browser context for t, closed when t ends.
// Every action on it is bounded by testTimeout. When t ends, anything the
// browser tried to send beyond loopback since the last check fails it.
func (b *browser) tab(t *testing.T) context.Context {
	t.Helper()
	bounded, cancelTimeout := context.WithTimeout(b.root, testTimeout)
	ctx, cancel := chromedp.NewContext(bounded, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		cancel()
		cancelTimeout()
		if hits := b.sink.take(); len(hits) > 0 {
			t.Errorf("chromium tried to reach beyond loopback: %s", strings.Join(hits, "; "))
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// sink is the proxy chromium must use for every host that is not loopback.
// It answers 403 to everything. A request in absolute form, or a CONNECT,
// came through the proxy setting: chromium tried to leave loopback, and the
// test fails. A request in origin form came straight here from a service the
// flags point at the sink; it is only counted.
type sink struct {
	srv        *http.Server
	ln         net.Listener
	done       chan struct{}
	mu         sync.Mutex
	hits       []string // tried to leave loopback
	redirected []string // background services held on loopback by flags
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			escape := r.Method == http.MethodConnect || r.URL.IsAbs()
			if escape {
				s.hits = append(s.hits, r.Method+" "+r.RequestURI)
			} else {
				s.redirected = append(s.redirected, r.Method+" "+r.URL.Path)
			}
			s.mu.Unlock()
			if !escape {
				// As if nothing listened: a Google service that gets an
				// HTTP answer goes on to try its own host.
				panic(http.ErrAbortHandler)
			}
			w.Header().Set("Connection", "close")
			http.Error(w, "e2e: this browser may only reach loopback", http.StatusForbidden)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }

// take returns what was recorded since the last take.
func (s *sink) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	hits := s.hits
	s.hits = nil
	return hits
}

// held returns the requests of background services the flags point here.
func (s *sink) held() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.redirected...)
}

func (s *sink) close() {
	_ = s.srv.Close()
	<-s.done
}

// eval runs JavaScript in the tab's page and decodes its value into T. A
// promise is awaited, so scripts may be async functions.
func eval[T any](t *testing.T, ctx context.Context, script string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", firstLine(script), err)
	}
	return v
}

// waitFor polls a JavaScript predicate in the page until it is truthy.
func waitFor(t *testing.T, ctx context.Context, what, predicate string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
