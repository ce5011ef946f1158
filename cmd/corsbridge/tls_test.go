package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/acmetest"
)

// The proxy's behaviour holds over HTTP/2: the Go client negotiates h2
// with the certificate-file mode, and streaming, bodies, limits and the
// error contract are the same as over HTTP/1.1.
func TestTLSServesProxyOverHTTP2(t *testing.T) {
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: first\n\n")
			w.(http.Flusher).Flush()
			<-release
			_, _ = io.WriteString(w, "data: second\n\n")
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			_, _ = w.Write(body)
		default:
			_, _ = io.WriteString(w, "hello from upstream")
		}
	}))
	defer upstream.Close()
	defer close(release)
	certFile, keyFile, roots := certFiles(t, t.TempDir())
	inst := startTLS(t, map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8", "CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile,
		"CORSBRIDGE_MAX_REQUEST_BODY": "1KiB",
	})
	client := tlsClient(inst.tlsAddr, roots, false)
	do := func(t *testing.T, method, path string, body io.Reader) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, inst.base+path, body)
		req.Header.Set("Origin", "https://app.example")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.ProtoMajor != 2 {
			t.Errorf("%s %s over %s, want HTTP/2", method, path, res.Proto)
		}
		return res, data
	}

	t.Run("proxied GET", func(t *testing.T) {
		res, body := do(t, "GET", "/"+upstream.URL+"/x", nil)
		if res.StatusCode != 200 || string(body) != "hello from upstream" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%d %q %v", res.StatusCode, body, res.Header)
		}
	})
	t.Run("request body streamed", func(t *testing.T) {
		res, body := do(t, "POST", "/"+upstream.URL+"/echo", strings.NewReader(strings.Repeat("b", 1000)))
		if res.StatusCode != 200 || len(body) != 1000 {
			t.Errorf("%d, %d bytes echoed", res.StatusCode, len(body))
		}
	})
	t.Run("body over the limit is the error contract", func(t *testing.T) {
		res, body := do(t, "POST", "/"+upstream.URL+"/echo", strings.NewReader(strings.Repeat("b", 2000)))
		var e struct{ Code, Message string }
		if res.StatusCode != 413 || json.Unmarshal(body, &e) != nil || e.Code != "body_too_large" ||
			res.Header.Get("X-Corsbridge-Error") != "body_too_large" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%d %s %v", res.StatusCode, body, res.Header)
		}
	})
	t.Run("event stream flushed per event", func(t *testing.T) {
		req, _ := http.NewRequest("GET", inst.base+"/"+upstream.URL+"/events", nil)
		req.Header.Set("Origin", "https://app.example")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		// The upstream holds the rest until released: the first event
		// must arrive on its own.
		line, err := bufio.NewReader(res.Body).ReadString('\n')
		if err != nil || line != "data: first\n" || res.ProtoMajor != 2 {
			t.Errorf("first line %q (%v) over %s", line, err, res.Proto)
		}
	})
	t.Run("readyz reports the certificate", func(t *testing.T) {
		_, body := do(t, "GET", "/readyz", nil)
		if !strings.Contains(string(body), `"tls":"files","tls_expires":"`) {
			t.Errorf("readyz %s", body)
		}
	})
}

func TestTLSGracefulDrainOverHTTP2(t *testing.T) {
	upstream := newHoldingUpstream(t)
	certFile, keyFile, roots := certFiles(t, t.TempDir())
	inst := startTLS(t, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8", "CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile})
	client := tlsClient(inst.tlsAddr, roots, false)

	result := fetchInBackground(client, inst.base+"/"+upstream.URL+"/")
	upstream.waitStarted(t)
	inst.cancel()
	waitFor(t, func() bool { return strings.Contains(inst.logs.String(), "shutting down") })
	upstream.release()
	if got := <-result; got != "finished" {
		t.Errorf("in-flight HTTP/2 request got %q", got)
	}
	select {
	case err := <-inst.done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
		inst.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the in-flight request finished")
	}
}

// The plain port redirects to https with the target byte for byte, and
// answers health checks itself.
func TestTLSPlainPortRedirectsAndServesHealth(t *testing.T) {
	certFile, keyFile, _ := certFiles(t, t.TempDir())
	inst := startTLS(t, map[string]string{"CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile})

	conn, err := net.Dial("tcp", inst.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /https://api.example/x?y=%2F&z=a+b%20c HTTP/1.1\r\nHost: "+testName+"\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := "https://" + testName + ":" + portOf(inst.tlsAddr) + "/https://api.example/x?y=%2F&z=a+b%20c"
	if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
		t.Errorf("%d Location %q, want 308 %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	if status, body := getBody(t, "http://"+inst.httpAddr+"/readyz"); status != 200 || !strings.Contains(body, `"tls":"files"`) {
		t.Errorf("plain /readyz: %d %s", status, body)
	}
	line := startLine(t, inst.instance)
	if tlsAttrs, _ := line["tls"].(map[string]any); tlsAttrs["mode"] != "files" || tlsAttrs[testName] == nil {
		t.Errorf("start-up line tls = %v", line["tls"])
	}

	t.Run("healthcheck probes the plain port", func(t *testing.T) {
		var out bytes.Buffer
		env := map[string]string{"CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile, "CORSBRIDGE_HTTP_ADDR": inst.httpAddr}
		if err := run(context.Background(), []string{"healthcheck"}, envOf(env), nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "ok: http://") {
			t.Errorf("healthcheck: %v %q", err, out.String())
		}
	})
	t.Run("healthcheck over TLS when the plain port is off", func(t *testing.T) {
		var out bytes.Buffer
		env := map[string]string{"CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile, "CORSBRIDGE_HTTP_ADDR": "off", "CORSBRIDGE_TLS_ADDR": inst.tlsAddr}
		if err := run(context.Background(), []string{"healthcheck"}, envOf(env), nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "ok: https://") {
			t.Errorf("healthcheck: %v %q", err, out.String())
		}
	})
}

// Cleartext HTTP/2 is served only with --h2c.
func TestH2C(t *testing.T) {
	h2c := func() *http.Client {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		return &http.Client{Transport: &http.Transport{Proxy: nil, Protocols: &p}, Timeout: 10 * time.Second}
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"on", map[string]string{"CORSBRIDGE_H2C": "true"}, true},
		{"off by default", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := start(t, tc.env)
			res, err := h2c().Get(inst.base + "/healthz")
			if !tc.want {
				if err == nil {
					res.Body.Close()
					t.Errorf("cleartext HTTP/2 answered %s without --h2c", res.Proto)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 || res.ProtoMajor != 2 {
				t.Errorf("%d over %s", res.StatusCode, res.Proto)
			}
		})
	}
}

// The whole wiring with a real ACME CA: corsbridge obtains a certificate
// on the first handshake and reports it.
func TestTLSACMEThroughRun(t *testing.T) {
	tlsPort, httpPort := freePort(t), freePort(t)
	ca := acmetest.Start(t, acmetest.Options{HTTPPort: httpPort, TLSPort: tlsPort})
	rootFile := filepath.Join(t.TempDir(), "acme-root.pem")
	if err := os.WriteFile(rootFile, ca.DirectoryRootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	inst := startTLS(t, map[string]string{
		"CORSBRIDGE_TLS_DOMAINS": testName, "CORSBRIDGE_ACME_DIRECTORY": ca.Directory(), "CORSBRIDGE_ACME_CA_ROOT": rootFile,
		"CORSBRIDGE_DATA_DIR": dataDir, "CORSBRIDGE_METRICS": "true",
	}, "--tls-addr", "127.0.0.1:"+strconv.Itoa(tlsPort), "--http-addr", "127.0.0.1:"+strconv.Itoa(httpPort))

	client := tlsClient(inst.tlsAddr, ca.Roots(), false)
	res, err := client.Get(inst.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || !strings.Contains(string(body), `"tls":"acme","tls_expires":"`) {
		t.Errorf("readyz over %s: %s", res.Proto, body)
	}
	res, err = client.Get(inst.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "corsbridge_tls_certificate_expiry_timestamp_seconds 1.") {
		t.Errorf("no expiry metric in /metrics")
	}
	if _, err := os.Stat(filepath.Join(dataDir, testName)); err != nil {
		t.Errorf("certificate not in the data directory: %v", err)
	}
	if _, err := tlsClient(inst.tlsAddr, ca.Roots(), false).Get("https://other.corsbridge.test:" + portOf(inst.tlsAddr) + "/healthz"); err == nil {
		t.Errorf("a name not listed got a certificate")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := certFiles(t, dir)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"h2c with TLS", map[string]string{"CORSBRIDGE_H2C": "true", "CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile}, "CORSBRIDGE_H2C"},
		{"certificate without key", map[string]string{"CORSBRIDGE_TLS_CERT": certFile}, "key file"},
		{"domains and files", map[string]string{"CORSBRIDGE_TLS_DOMAINS": testName, "CORSBRIDGE_TLS_CERT": certFile, "CORSBRIDGE_TLS_KEY": keyFile}, "not both"},
		{"wildcard domain", map[string]string{"CORSBRIDGE_TLS_DOMAINS": "*.corsbridge.test"}, "wildcards"},
		{"TLS address without a port", map[string]string{"CORSBRIDGE_TLS_DOMAINS": testName, "CORSBRIDGE_TLS_ADDR": "localhost"}, "CORSBRIDGE_TLS_ADDR"},
		{"CA root not PEM", map[string]string{"CORSBRIDGE_TLS_DOMAINS": testName, "CORSBRIDGE_ACME_CA_ROOT": keyFile}, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), nil, envOf(tc.env), nil, io.Discard, io.Discard)
			var usage *usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error about %q", err, tc.want)
			}
		})
	}
}
