package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/web"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// loopbackOnly is the tests' outer guard around the policy: whatever the
// policy allows, no test dial may leave loopback.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("test guard: refusing non-loopback dial to %s", address)
	}
	return nil
}

// loopbackPolicy allows the httptest upstreams on loopback, as an operator
// would with CORSBRIDGE_ALLOW_PRIVATE.
func loopbackPolicy(t *testing.T, mutate ...func(*allowlist.Config)) *allowlist.Policy {
	t.Helper()
	cfg := allowlist.Config{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := allowlist.New(cfg)
	if err != nil {
		t.Fatalf("allowlist.New: %v", err)
	}
	return p
}

type proxyFixture struct {
	URL    string
	Server *Server
	Client *http.Client
	Logs   *logbuf.Buffer
}

// newProxy starts the proxy on loopback with test defaults; options adjust
// the dependencies before New.
func newProxy(t *testing.T, options ...func(*Deps)) *proxyFixture {
	t.Helper()
	logs := &logbuf.Buffer{}
	d := Deps{
		Config:      DefaultConfig(),
		Policy:      loopbackPolicy(t),
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		DialControl: loopbackOnly,
	}
	for _, o := range options {
		o(&d)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		ts.Close()
		_ = srv.Close()
	})
	return &proxyFixture{URL: ts.URL, Server: srv, Client: client, Logs: logs}
}

// do sends a request through the proxy with an Origin header unless the
// caller set its own headers.
func (p *proxyFixture) do(t *testing.T, method, path string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+"/", body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	// Send the path exactly as written: url.URL would re-escape it.
	req.URL.Opaque = path
	if headers == nil {
		headers = map[string]string{"Origin": "https://app.example"}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := p.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, path, err)
	}
	return res, data
}

// seen is what an upstream received.
type seen struct {
	Method     string
	RequestURI string
	Host       string
	Header     http.Header
	Body       []byte
}

// recorder is an upstream that remembers every request it got.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rc *recorder) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = append(rc.reqs, seen{r.Method, r.RequestURI, r.Host, r.Header.Clone(), body})
}

func (rc *recorder) all() []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]seen(nil), rc.reqs...)
}

func (rc *recorder) last(t *testing.T) seen {
	t.Helper()
	all := rc.all()
	if len(all) == 0 {
		t.Fatal("upstream received no request")
	}
	return all[len(all)-1]
}

// newUpstream starts an upstream that records each request, then runs h.
func newUpstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, *recorder) {
	t.Helper()
	rc := &recorder{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.record(r)
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, rc
}

// errorBodyOf decodes the error contract and checks its invariants.
func checkErrorContract(t *testing.T, res *http.Response, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if res.StatusCode != wantStatus {
		t.Errorf("status = %d, want %d (body %s)", res.StatusCode, wantStatus, body)
	}
	if got := res.Header.Get(HeaderError); got != wantCode {
		t.Errorf("%s = %q, want %q", HeaderError, got, wantCode)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", got)
	}
	if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 {
		t.Errorf("Access-Control-Allow-Origin = %q, want exactly one", got)
	}
	if !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), HeaderError) {
		t.Errorf("error code header not exposed: %q", res.Header.Get("Access-Control-Expose-Headers"))
	}
	if !bytes.Contains(body, []byte(`"code":"`+wantCode+`"`)) || !bytes.Contains(body, []byte(`"message":"`)) {
		t.Errorf("body = %s, want code %q and a message", body, wantCode)
	}
}

func withSite(t *testing.T) func(*Deps) {
	t.Helper()
	site, err := web.New(web.Info{MaxRedirects: 5, RequireHeader: DefaultRequireHeader()})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return func(d *Deps) { d.Site = site }
}
