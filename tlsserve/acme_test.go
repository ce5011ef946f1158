package tlsserve

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/acmetest"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

func TestACMEFirstCertificate(t *testing.T) {
	in := listen(t)
	ca := acmetest.Start(t, acmetest.Options{HTTPPort: port(in.httpLn), TLSPort: port(in.tlsLn)})
	cfg := acmeConfig(t, ca, "proxy.corsbridge.test")
	in.serve(t, cfg)

	c := client(in.tlsLn.Addr().String(), ca.Roots())
	var orders int64
	for i := range 2 {
		res, err := c.Get("https://proxy.corsbridge.test/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "ok HTTP/2.0" {
			t.Errorf("request %d: body %q, want HTTP/2 negotiated", i, body)
		}
		if i == 0 {
			orders = ca.Orders()
		}
		c.CloseIdleConnections() // the second request makes a new handshake
	}
	if n := ca.Orders(); n != 1 || orders != 1 {
		t.Errorf("orders at the CA = %d (%d after the first request), want 1", n, orders)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "proxy.corsbridge.test")); err != nil {
		t.Errorf("certificate not cached on disk: %v", err)
	}
	st := in.certs.Status()
	if st.Mode != ModeACME || len(st.Certificates) != 1 || st.Certificates[0].Name != "proxy.corsbridge.test" {
		t.Fatalf("status = %+v", st)
	}
	if left := time.Until(st.Earliest()); left < 80*24*time.Hour {
		t.Errorf("earliest expiry in %v, want Pebble's 90 days", left)
	}
}

func TestACMERefusesNamesNotListed(t *testing.T) {
	in := listen(t)
	ca := acmetest.Start(t, acmetest.Options{HTTPPort: port(in.httpLn), TLSPort: port(in.tlsLn)})
	in.serve(t, acmeConfig(t, ca, "proxy.corsbridge.test"))

	for _, name := range []string{"other.corsbridge.test", "corsbridge.test", "proxy.corsbridge.test.evil.test"} {
		t.Run(name, func(t *testing.T) {
			_, err := handshake(in.tlsLn.Addr().String(), name, ca.Roots())
			if err == nil {
				t.Fatal("handshake succeeded for a name not listed")
			}
		})
	}
	if n := ca.Orders(); n != 0 {
		t.Errorf("orders at the CA = %d, want 0", n)
	}
}

func TestACMERenewsShortLivedCertificate(t *testing.T) {
	in := listen(t)
	ca := acmetest.Start(t, acmetest.Options{HTTPPort: port(in.httpLn), TLSPort: port(in.tlsLn), Validity: 30 * time.Second})
	cfg := acmeConfig(t, ca, "proxy.corsbridge.test")
	cfg.RenewBefore = 27 * time.Second // due 3 s after issue
	in.serve(t, cfg)

	addr := in.tlsLn.Addr().String()
	first, err := handshake(addr, "proxy.corsbridge.test", ca.Roots())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a second order", 20*time.Second, func() bool { return ca.Orders() >= 2 })
	waitFor(t, "the renewed certificate served", 10*time.Second, func() bool {
		cert, err := handshake(addr, "proxy.corsbridge.test", ca.Roots())
		return err == nil && cert.SerialNumber.Cmp(first.SerialNumber) != 0
	})
	if got := in.certs.Status().Earliest(); !got.After(first.NotAfter) {
		t.Errorf("status expiry %v, want after the first certificate's %v", got, first.NotAfter)
	}
}

// Two instances share one Redis; both get a first handshake at the same
// moment. One orders, the other waits and serves the same certificate.
// The CA validates against instance a only, so when b orders, a answers
// the challenge from the shared cache.
func TestACMETwoInstancesShareOneOrderThroughRedis(t *testing.T) {
	rs := redistest.Dedicated(t)
	a, b := listen(t), listen(t)
	ca := acmetest.Start(t, acmetest.Options{HTTPPort: port(a.httpLn), TLSPort: port(a.tlsLn)})
	for _, in := range []*instance{a, b} {
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
		t.Cleanup(func() { rdb.Close() })
		cfg := acmeConfig(t, ca, "proxy.corsbridge.test")
		cfg.DataDir = ""
		cfg.Redis = rdb
		cfg.Lock = LockConfig{TTL: 3 * time.Second, Poll: 20 * time.Millisecond}
		in.serve(t, cfg)
	}

	var wg sync.WaitGroup
	serials := make([]string, 2)
	errs := make([]error, 2)
	for i, in := range []*instance{a, b} {
		wg.Go(func() {
			cert, err := handshake(in.tlsLn.Addr().String(), "proxy.corsbridge.test", ca.Roots())
			if errs[i] = err; err == nil {
				serials[i] = cert.SerialNumber.String()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	if serials[0] != serials[1] {
		t.Errorf("instances serve different certificates: %s and %s", serials[0], serials[1])
	}
	if n := ca.Orders(); n != 1 {
		t.Errorf("orders at the CA = %d, want exactly 1", n)
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rdb.Close()
	keys, err := rdb.Keys(t.Context(), keyPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "lock:") {
			t.Errorf("lock %s still held after the certificate was stored", k)
		}
	}
}
