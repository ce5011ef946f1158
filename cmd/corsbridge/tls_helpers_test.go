package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/testcert"
)

// testName is the name clients ask for; their dialers send it to loopback.
const testName = "proxy.corsbridge.test"

// tlsInstance is corsbridge run in-process with TLS on.
type tlsInstance struct {
	*instance
	tlsAddr, httpAddr string
}

// startTLS runs the binary with TLS on, both ports on free loopback ports
// unless args say otherwise, and waits until /healthz answers on the plain
// port.
func startTLS(t *testing.T, env map[string]string, args ...string) *tlsInstance {
	t.Helper()
	args = append([]string{"--tls-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--shutdown-grace", "5s"}, args...)
	tlsInst := &tlsInstance{}
	tlsInst.instance = launch(t, env, args, 20*time.Second, func(inst *instance, line string) string {
		var entry struct {
			Msg, Addr string
			HTTPAddr  string `json:"http_addr"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil || entry.Msg != "listening" || entry.HTTPAddr == "" {
			return ""
		}
		tlsInst.tlsAddr, tlsInst.httpAddr = entry.Addr, entry.HTTPAddr
		inst.base = "https://" + testName + ":" + portOf(entry.Addr)
		return "http://" + entry.HTTPAddr + "/healthz"
	})
	return tlsInst
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// tlsClient speaks HTTP/2 (or HTTP/1.1 when h1) to addr whatever the URL's
// host, trusting roots.
func tlsClient(addr string, roots *x509.CertPool, h1 bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}
	var p http.Protocols
	p.SetHTTP1(h1)
	p.SetHTTP2(!h1)
	tr.Protocols = &p
	return &http.Client{Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// certFiles writes a self-signed certificate for testName and its key
// into dir, and returns their paths and a pool that trusts it.
func certFiles(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	return testcert.Files(t, dir, testName, time.Now().Add(30*24*time.Hour))
}
