package e2e

import (
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/corsbridge/corsbridge/allowlist"
)

// idnHosts are hosts a page may put in a URL, spelled the ways that need
// Unicode mapping: composed and decomposed, compatibility forms, width,
// ignorable characters, other scripts; and some the URL standard refuses.
var idnHosts = []string{
	"bücher.example", "bu\u0308cher.example", "BÜCHER.example", "xn--bcher-kva.example",
	"\ufb01le.example", "\u210cello.example", "\u00b5.example", "fa\u00df.example",
	"ＥＸＡＭＰＬＥ.com", "Ｇｏ.com", "münchen。de", "a\u00adb.example", "\u212aey.example",
	"\u0130nternal.example", "\u01c5ango.example", "\uff71.example", "例え.テスト", "пример.рф",
	"\u24d0.example", "b\u00aank.example", "\u017fecure.example", "ශ්\u200dරී.example",
	"ex\u200dample.com", "xn--a.example", "\u064aa.example", "xn--1ug.example", "\ufdd0zyx.com",
}

// chromiumLenient are hosts Chromium accepts and the WHATWG URL standard (and
// its test data, allowlist/testdata/whatwg) refuses: Chromium does not
// validate a label already in ASCII "xn--" form. corsbridge follows the
// standard and refuses them; the test holds that refusal.
var chromiumLenient = map[string]bool{"xn--a.example": true, "xn--1ug.example": true}

// TestIDNHostsMatchChromium: for each host, the browser's own URL parser is
// the oracle. What Chromium's new URL() makes of "https://<host>/" must be
// exactly the host corsbridge reaches when the page fetches
// proxy + "https://<host>/x" (the request line is captured on loopback as
// Chromium sends it, percent-encoding and all); where Chromium refuses the
// host, corsbridge must refuse it too.
func TestIDNHostsMatchChromium(t *testing.T) {
	ctx := openPage(t, startPage(t))
	var mu sync.Mutex
	var lines []string
	recorder := serveOn(t, upstreamIP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lines = append(lines, r.RequestURI)
		mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}))
	// Only which host is reached matters here, not whether it is public.
	policy, err := allowlist.New(allowlist.Config{AllowPrivate: []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range idnHosts {
		t.Run(host, func(t *testing.T) {
			chromium := eval[string](t, ctx, `(() => { try { return new URL("https://" + `+jsString(host)+` + "/").hostname } catch { return "" } })()`)
			mu.Lock()
			lines = nil
			mu.Unlock()
			if res := probe(t, ctx, recorder.URL+"/https://"+host+"/x", "{}"); res.Error != "" {
				t.Fatalf("fetch to the loopback recorder failed: %s", res.Error)
			}
			mu.Lock()
			sent := append([]string(nil), lines...)
			mu.Unlock()
			if len(sent) != 1 {
				t.Fatalf("recorder saw %q, want one request", sent)
			}
			got := ""
			// The path is "/x", so ParseTarget gives a plain URL CheckTarget takes.
			if u, err := allowlist.ParseTarget(sent[0]); err == nil && policy.CheckTarget(u) == nil {
				got = u.Host
			}
			if chromiumLenient[host] {
				if chromium == "" || got != "" {
					t.Errorf("Chromium %q, corsbridge %q: want Chromium lenient and corsbridge refusing", chromium, got)
				}
				return
			}
			if got != chromium {
				t.Errorf("Chromium reaches %q, corsbridge %q (request line %q; empty means refused)", chromium, got, sent[0])
			}
		})
	}
}
