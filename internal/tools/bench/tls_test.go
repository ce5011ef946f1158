package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/loopback"
)

// serveLoopback runs h with serve on a free loopback port until the test
// ends, and returns its host:port once it accepts connections.
func serveLoopback(t *testing.T, h http.Handler, tlsCfg *tls.Config) string {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, addr, h, tlsCfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
	}
}

func tlsUpstream(t *testing.T) (*benchCA, string) {
	t.Helper()
	ca, err := newBenchCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := upstreamTLSConfig(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return ca, serveLoopback(t, upstreamHandler(), cfg)
}

func TestTLSUpstream(t *testing.T) {
	ca, addr := tlsUpstream(t)
	tests := []struct {
		name      string
		tls       *tls.Config
		wantProto string // empty: the request must fail
	}{
		{"HTTP/2 with the run's CA", &tls.Config{RootCAs: ca.Pool}, "HTTP/2.0"},
		{"verifies the DNS name nginx uses", &tls.Config{RootCAs: ca.Pool, ServerName: upstreamTLSName}, "HTTP/2.0"},
		{"system roots do not trust it", &tls.Config{}, ""},
		{"TLS 1.2 is refused", &tls.Config{RootCAs: ca.Pool, MaxVersion: tls.VersionTLS12}, ""},
		{"another name is refused", &tls.Config{RootCAs: ca.Pool, ServerName: "other.bench.test"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: tt.tls, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			res, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/1k")
			if tt.wantProto == "" {
				if err == nil {
					res.Body.Close()
					t.Fatalf("request succeeded with %s", res.Proto)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.Proto != tt.wantProto || res.TLS.Version != tls.VersionTLS13 || len(body) != 1024 {
				t.Errorf("got %s, TLS %x, %d bytes; want %s over TLS 1.3, 1024 bytes", res.Proto, res.TLS.Version, len(body), tt.wantProto)
			}
		})
	}
}

// The plain reference trusts the CA it is given, and only with it reaches
// the TLS upstream.
func TestPlainProxyTrustsTheGivenCA(t *testing.T) {
	ca, upstream := tlsUpstream(t)
	for _, tt := range []struct {
		name       string
		roots      *x509.CertPool
		wantStatus int
	}{
		{"with the CA", ca.Pool, 200},
		{"without it", nil, 502},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := serveLoopback(t, plainProxy(0, tt.roots), nil)
			res, err := http.Get("http://" + proxy + "/https://" + upstream + "/1k")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d: %.200s", res.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 200 && (len(body) != 1024 || res.Header.Get("Access-Control-Allow-Origin") != "*") {
				t.Errorf("%d bytes, ACAO %q", len(body), res.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestLoadRootsRefusesWhatIsNotPEM(t *testing.T) {
	dir := t.TempDir()
	ca, err := newBenchCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadRoots(ca.CAFile); err != nil {
		t.Errorf("loadRoots(the CA) = %v", err)
	}
	for _, path := range []string{ca.KeyFile, dir + "/missing.pem"} {
		if _, err := loadRoots(path); err == nil {
			t.Errorf("loadRoots(%s) accepted", path)
		}
	}
}
