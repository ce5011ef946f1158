package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"github.com/corsbridge/corsbridge/internal/testcert"
)

// TestBrowserSpeaksHTTP2OverTLS: with a certificate, corsbridge serves
// HTTPS itself, Chromium negotiates HTTP/2 with it, and a page on another
// origin fetches through it with CORS as over HTTP/1.1.
func TestBrowserSpeaksHTTP2OverTLS(t *testing.T) {
	ctx := openPage(t, startPage(t))
	// The shared test browser trusts no test CA: certificate errors are
	// ignored for this test only, and checked again when it ends.
	ignore := func(on bool) error {
		_, err := chromedp.Call(ctx, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: on})
		return err
	}
	if err := ignore(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ignore(false); err != nil {
			t.Errorf("certificate checks not restored: %v", err)
		}
	})

	certFile, keyFile, _ := testcert.Files(t, t.TempDir(), "127.0.0.1", time.Now().Add(24*time.Hour))
	up := startUpstream(t)
	p := startProxy(t, allowUpstream, "CORSBRIDGE_TLS_CERT="+certFile, "CORSBRIDGE_TLS_KEY="+keyFile,
		"CORSBRIDGE_TLS_ADDR=127.0.0.1:0", "CORSBRIDGE_HTTP_ADDR=127.0.0.1:0")

	target := up.URL + "/plain"
	res := probe(t, ctx, p.URL+"/"+target, "{}")
	if res.Error != "" {
		t.Fatalf("fetch through the HTTPS proxy failed: %s", res.Error)
	}
	if res.Status != http.StatusOK || res.Body != "hello from upstream" || res.Headers["x-custom"] != "custom-value" {
		t.Errorf("status %d body %q headers %v", res.Status, res.Body, res.Headers)
	}

	do(t, ctx, chromedp.Navigate(p.URL+"/healthz"))
	proto := eval[string](t, ctx, `performance.getEntriesByType("navigation")[0].nextHopProtocol`)
	if proto != "h2" {
		t.Errorf("Chromium spoke %q to the proxy, want h2", proto)
	}
}
