package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/tlsserve"
)

// frontDoor is where clients connect. With TLS off: plain HTTP on --addr
// (HTTP/1.1, plus cleartext HTTP/2 with --h2c). With TLS on: HTTPS on
// --tls-addr (HTTP/2 and HTTP/1.1), and plain HTTP on --http-addr for ACME
// http-01 challenges, health checks and a redirect of everything else to
// https.
type frontDoor struct {
	main  net.Listener
	plain net.Listener    // TLS on, unless --http-addr=off
	certs *tlsserve.Certs // TLS on
	srvs  []*http.Server
	errs  chan error
	// running counts servers whose end is not yet read from errs.
	running int
}

// openFrontDoor opens the listeners; a port in use fails start-up here.
func openFrontDoor(cfg Config) (*frontDoor, error) {
	f := &frontDoor{}
	addr := cfg.Addr
	if cfg.TLS.On() {
		addr = cfg.TLS.Addr
	}
	var err error
	if f.main, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if cfg.TLS.On() && cfg.TLS.HTTPAddr != "off" {
		if f.plain, err = net.Listen("tcp", cfg.TLS.HTTPAddr); err != nil {
			f.main.Close()
			return nil, fmt.Errorf("listen on %s (plain HTTP for challenges and the https redirect): %w", cfg.TLS.HTTPAddr, err)
		}
	}
	return f, nil
}

// addrs are the addresses listened on, which the proxy must never dial.
func (f *frontDoor) addrs() []net.Addr {
	out := []net.Addr{f.main.Addr()}
	if f.plain != nil {
		out = append(out, f.plain.Addr())
	}
	return out
}

// loadCerts prepares the certificates when TLS is on: shared in Redis when
// there is one, else on disk.
func (f *frontDoor) loadCerts(cfg Config, rdb redis.UniversalClient, logger *slog.Logger) error {
	if !cfg.TLS.On() {
		return nil
	}
	tc := cfg.TLS.certsConfig()
	tc.Redis, tc.Logger = rdb, logger
	// Redirects name the port actually listened on (--tls-addr may be :0).
	tc.HTTPSPort = f.main.Addr().(*net.TCPAddr).Port
	certs, err := tlsserve.New(tc)
	if err != nil {
		return err
	}
	f.certs = certs
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	certs.Peek(ctx) // expiries of cached certificates, for the start-up line
	return nil
}

// serve starts serving handler. Serve errors arrive on f.errs.
func (f *frontDoor) serve(ctx context.Context, cfg Config, handler http.Handler, logger *slog.Logger) {
	newServer := func(h http.Handler) *http.Server {
		s := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		}
		f.srvs = append(f.srvs, s)
		f.running++
		return s
	}
	f.errs = make(chan error, 2)
	main := newServer(handler)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	switch {
	case f.certs != nil:
		protocols.SetHTTP2(true)
		main.TLSConfig = f.certs.TLSConfig()
		main.Protocols = &protocols
		go func() { f.errs <- main.ServeTLS(f.main, "", "") }()
	default:
		// Cleartext HTTP/2 only on request: a client speaking it directly
		// is a platform proxy (Cloud Run, a mesh), not a browser.
		protocols.SetUnencryptedHTTP2(cfg.TLS.H2C)
		main.Protocols = &protocols
		go func() { f.errs <- main.Serve(f.main) }()
	}
	if f.plain != nil {
		plain := newServer(plainPort(f.certs.HTTPHandler(handler), handler))
		go func() { f.errs <- plain.Serve(f.plain) }()
	}
}

// plainPort serves the health checks itself, so load balancers and
// `corsbridge healthcheck` need no certificate, and hands the rest to
// redirect (which answers ACME challenges first).
func plainPort(redirect, local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			local.ServeHTTP(w, r)
			return
		}
		redirect.ServeHTTP(w, r)
	})
}

// shutdown stops accepting and lets requests in flight finish (HTTP/2
// connections get a GOAWAY) until ctx ends, then cuts what is left.
func (f *frontDoor) shutdown(ctx context.Context, logger *slog.Logger) {
	var wg sync.WaitGroup
	var once sync.Once
	for _, s := range f.srvs {
		wg.Go(func() {
			if err := s.Shutdown(ctx); err != nil {
				once.Do(func() {
					// Grace is over: cut what is left rather than hang the deploy.
					logger.Warn("grace period over, closing remaining connections", "error", err)
				})
				_ = s.Close()
			}
		})
	}
	wg.Wait()
	f.wait()
}

// failed stops every server at once after one of them ended with err,
// which run has read from errs, and returns err.
func (f *frontDoor) failed(err error) error {
	f.running--
	f.closeNow()
	return err
}

// closeNow stops every server at once, without grace.
func (f *frontDoor) closeNow() {
	for _, s := range f.srvs {
		_ = s.Close()
	}
	f.wait()
}

// wait collects the servers' ends (ErrServerClosed after a shutdown).
func (f *frontDoor) wait() {
	for ; f.running > 0; f.running-- {
		<-f.errs
	}
}

// close releases the listeners and the certificates.
func (f *frontDoor) close() {
	f.main.Close()
	if f.plain != nil {
		f.plain.Close()
	}
	if f.certs != nil {
		f.certs.Close()
	}
}

// tlsStatus feeds /readyz and the expiry metric; nil with TLS off.
func (f *frontDoor) tlsStatus() func() (string, time.Time) {
	if f.certs == nil {
		return nil
	}
	return func() (string, time.Time) {
		st := f.certs.Status()
		return st.Mode, st.Earliest()
	}
}

// startAttrs describe the front door for the start-up line.
func (f *frontDoor) startAttrs() []any {
	if f.certs == nil {
		return []any{"addr", f.main.Addr().String()}
	}
	attrs := []any{"addr", f.main.Addr().String()}
	if f.plain != nil {
		attrs = append(attrs, "http_addr", f.plain.Addr().String())
	}
	st := f.certs.Status()
	tlsAttrs := []any{"mode", st.Mode}
	for _, c := range st.Certificates {
		tlsAttrs = append(tlsAttrs, c.Name, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return append(attrs, slog.Group("tls", tlsAttrs...))
}
