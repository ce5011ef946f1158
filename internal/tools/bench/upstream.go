package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// oneKiB is the body of /1k: a small JSON-typed API answer.
var oneKiB = func() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	return b
}()

// upstreamHandler serves /1k (1 KiB, no-store), /1k-cacheable (the same
// body, which shared caches may keep for an hour), /stream?n=BYTES, a body
// of n bytes generated on the fly from one reused buffer, with
// Content-Length declared unless chunked=1, and /cacheable-count, how many
// times /1k-cacheable was asked for: the requests a cache let through.
func upstreamHandler() http.Handler {
	var cacheable atomic.Int64
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/1k", serveOneKiB("no-store", nil))
	mux.HandleFunc("/1k-cacheable", serveOneKiB("public, max-age=3600", &cacheable))
	mux.HandleFunc("/cacheable-count", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strconv.FormatInt(cacheable.Load(), 10))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "n must be a byte count", http.StatusBadRequest)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		if r.URL.Query().Get("chunked") != "1" {
			h["Content-Length"] = []string{strconv.FormatInt(n, 10)}
		}
		for n > 0 {
			m := min(n, int64(len(chunk)))
			if _, err := w.Write(chunk[:m]); err != nil {
				return
			}
			n -= m
		}
	})
	return mux
}

// serveOneKiB answers oneKiB with cacheControl, counting into count when
// it is set. Headers are set as map entries: the upstream should cost as
// little as it can, so the proxies' costs stand out.
func serveOneKiB(cacheControl string, count *atomic.Int64) http.HandlerFunc {
	cc := []string{cacheControl}
	return func(w http.ResponseWriter, _ *http.Request) {
		if count != nil {
			count.Add(1)
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{"1024"}
		h["Cache-Control"] = cc
		_, _ = w.Write(oneKiB)
	}
}

// runUpstream serves upstreamHandler over plain HTTP on -addr and, with
// -tls-addr, over TLS 1.3 with HTTP/2 allowed on a second address, from
// the same process: both scenarios have the same upstream.
func runUpstream(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	tlsAddr := fs.String("tls-addr", "", "also serve HTTPS here (loopback); needs -cert and -key")
	certFile := fs.String("cert", "", "PEM certificate for -tls-addr")
	keyFile := fs.String("key", "", "PEM private key for -tls-addr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h := upstreamHandler()
	if *tlsAddr == "" {
		return serve(ctx, *addr, h, nil)
	}
	tlsCfg, err := upstreamTLSConfig(*certFile, *keyFile)
	if err != nil {
		return fmt.Errorf("upstream TLS: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- serve(ctx, *tlsAddr, h, tlsCfg) }()
	go func() { errc <- serve(ctx, *addr, h, nil) }()
	return errors.Join(<-errc, <-errc)
}

// serve runs h on a loopback address until ctx is done; with tlsCfg, over
// TLS, where http.Server also offers HTTP/2.
func serve(ctx context.Context, addr string, h http.Handler, tlsCfg *tls.Config) error {
	if err := requireLoopback(addr); err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsCfg}
	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- srv.ListenAndServeTLS("", "")
		} else {
			errc <- srv.ListenAndServe()
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	return nil
}

// requireLoopback refuses to listen anywhere but loopback: every process
// this tool starts talks to the others on this machine only.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("listen address must be a loopback IP, not " + addr)
	}
	return nil
}
