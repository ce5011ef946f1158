// Package acmetest runs a real ACME CA (Let's Encrypt's Pebble) in-process
// for tests, with a DNS server of its own on loopback so that its
// validation authority reaches the challenge ports on 127.0.0.1 and never
// asks a real resolver.
package acmetest

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

// Options configure the CA. HTTPPort and TLSPort are where the validation
// authority connects for http-01 and tls-alpn-01, on 127.0.0.1.
type Options struct {
	HTTPPort, TLSPort int
	// Validity of issued certificates; 0 is Pebble's default (90 days).
	Validity time.Duration
	// Log receives Pebble's own log; nil keeps it and writes it to the
	// test's log if the test fails.
	Log io.Writer
}

// CA is a running Pebble.
type CA struct {
	srv    *httptest.Server
	dns    *dns.Server
	ca     *ca.CAImpl
	orders atomic.Int64
}

// Start starts Pebble and its loopback DNS server; both stop when the test
// ends. Pebble's validation authority normally sleeps up to five seconds
// before each validation; the environment variable that turns this off is
// set for the test.
func Start(t testing.TB, o Options) *CA {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	out := o.Log
	if out == nil {
		buf := &logbuf.Buffer{}
		out = buf
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("pebble's log:\n%s", buf.String())
			}
		})
	}
	logger := log.New(out, "pebble ", 0)

	resolver, err := startDNS()
	if err != nil {
		t.Fatalf("acmetest: dns: %v", err)
	}
	t.Cleanup(func() { _ = resolver.Shutdown() })

	store := db.NewMemoryStore()
	profile := ca.Profile{Description: "test", ValidityPeriod: uint64(o.Validity / time.Second)}
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": profile})
	validator := va.New(logger, o.HTTPPort, o.TLSPort, false, resolver.Listener.Addr().String(), store)
	front := wfe.New(logger, store, validator, authority, nil, false, false, 0, 0)
	c := &CA{dns: resolver, ca: authority}
	handler := front.Handler()
	c.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/order-plz") {
			handler.ServeHTTP(w, r)
			return
		}
		// Pebble refuses some requests on purpose (a bad nonce, which
		// the client retries): only an order created counts.
		sw := &statusWriter{ResponseWriter: w}
		handler.ServeHTTP(sw, r)
		if sw.status == http.StatusCreated {
			c.orders.Add(1)
		}
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// Directory is the ACME directory URL, https on loopback (ACME requires
// https, and Pebble checks it).
func (c *CA) Directory() string { return c.srv.URL + wfe.DirectoryPath }

// Client is an HTTP client that trusts the directory's certificate.
func (c *CA) Client() *http.Client { return c.srv.Client() }

// DirectoryRootPEM is the directory's certificate in PEM, for clients
// configured by a file.
func (c *CA) DirectoryRootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.srv.Certificate().Raw})
}

// Orders counts the orders the CA has created.
func (c *CA) Orders() int64 { return c.orders.Load() }

// Roots is a pool with the CA's root, for clients that verify the chain.
func (c *CA) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.GetRootCert(0).Cert)
	return pool
}

// startDNS answers every A query with 127.0.0.1 and every other query with
// no records, over TCP on a loopback port (Pebble asks its resolver over TCP).
func startDNS() (*dns.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	return srv, nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
