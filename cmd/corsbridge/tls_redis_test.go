package main

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/acmetest"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

// Two instances with the same REDIS_URL and no shared disk get their first
// handshakes at the same moment: one order at the CA, one certificate
// served by both. The CA validates against the first instance's ports
// only; the challenge answers are in Redis, so either may have ordered.
func TestTLSACMEInstancesShareCertificatesThroughRedis(t *testing.T) {
	rs := redistest.Dedicated(t)
	ports := [][2]int{{freePort(t), freePort(t)}, {freePort(t), freePort(t)}}
	ca := acmetest.Start(t, acmetest.Options{TLSPort: ports[0][0], HTTPPort: ports[0][1]})
	rootFile := filepath.Join(t.TempDir(), "acme-root.pem")
	if err := os.WriteFile(rootFile, ca.DirectoryRootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var insts []*tlsInstance
	for _, p := range ports {
		insts = append(insts, startTLS(t, map[string]string{
			"CORSBRIDGE_TLS_DOMAINS": testName, "CORSBRIDGE_ACME_DIRECTORY": ca.Directory(),
			"CORSBRIDGE_ACME_CA_ROOT": rootFile, "CORSBRIDGE_DATA_DIR": t.TempDir(), "REDIS_URL": rs.URL(),
		}, "--tls-addr", "127.0.0.1:"+strconv.Itoa(p[0]), "--http-addr", "127.0.0.1:"+strconv.Itoa(p[1])))
	}

	serials := make([]string, len(insts))
	var wg sync.WaitGroup
	for i, inst := range insts {
		wg.Go(func() {
			d := &tls.Dialer{NetDialer: &net.Dialer{}, Config: &tls.Config{ServerName: testName, RootCAs: ca.Roots()}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			conn, err := d.DialContext(ctx, "tcp", inst.tlsAddr)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
				return
			}
			defer conn.Close()
			serials[i] = conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.String()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if serials[0] != serials[1] {
		t.Errorf("the instances serve different certificates: %v", serials)
	}
	if n := ca.Orders(); n != 1 {
		t.Errorf("orders at the CA = %d, want exactly 1", n)
	}
}
