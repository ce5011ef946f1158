package tlsserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/corsbridge/corsbridge/internal/acmetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Pebble's validation authority reads its task queue for ever.
		goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks"),
		// autocert tidies authorizations and challenge answers in the
		// background after an order, against a CA that may be gone.
		goleak.IgnoreAnyFunction("golang.org/x/crypto/acme/autocert.(*Manager).deactivatePendingAuthz"),
		goleak.IgnoreAnyFunction("golang.org/x/crypto/acme/autocert.(*Manager).deleteCertToken"),
		goleak.IgnoreAnyFunction("golang.org/x/crypto/acme/autocert.(*Manager).deleteHTTPToken"),
	)
	os.Exit(0)
}

// instance is one corsbridge-like TLS server: a TLS port serving "ok" and a
// plain port serving Certs.HTTPHandler, both on 127.0.0.1.
type instance struct {
	certs         *Certs
	tlsLn, httpLn net.Listener
}

// listen opens the two ports first: Pebble must know where to validate.
func listen(t *testing.T) *instance {
	t.Helper()
	in := &instance{}
	var err error
	if in.tlsLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if in.httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return in
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serve starts Certs from cfg on the instance's ports.
func (in *instance) serve(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	certs, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	in.certs = certs
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok "+r.Proto) })
	tlsSrv := &http.Server{Handler: ok, TLSConfig: certs.TLSConfig(), ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	httpSrv := &http.Server{Handler: certs.HTTPHandler(ok), ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	tlsDone, httpDone := make(chan error, 1), make(chan error, 1)
	go func() { tlsDone <- tlsSrv.ServeTLS(in.tlsLn, "", "") }()
	go func() { httpDone <- httpSrv.Serve(in.httpLn) }()
	t.Cleanup(func() {
		_ = tlsSrv.Close()
		_ = httpSrv.Close()
		for _, ch := range []chan error{tlsDone, httpDone} {
			if err := <-ch; !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("serve: %v", err)
			}
		}
		certs.Close()
	})
}

// acmeConfig is ACME from ca for names, cached in a fresh directory.
func acmeConfig(t *testing.T, ca *acmetest.CA, names ...string) Config {
	return Config{Domains: names, Directory: ca.Directory(), ACMEClient: ca.Client(), DataDir: t.TempDir(), Email: "ops@corsbridge.test"}
}

// client dials addr whatever the URL's host says, so names resolve to
// loopback without DNS; it verifies certificates against roots.
func client(addr string, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// handshake connects to addr as name and returns the certificate served.
func handshake(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	// The first handshake for a name waits for the order: generous, since
	// the CI machine is shared.
	d := &tls.Dialer{Config: &tls.Config{ServerName: name, RootCAs: roots}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// waitFor polls cond every 20 ms until it holds or limit passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
