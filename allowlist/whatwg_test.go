package allowlist

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The WHATWG URL test data (testdata/whatwg, from web-platform-tests) is the oracle for
// hosts: for every input, the host ParseTarget and canonicalHost reach must be the host a
// browser's URL parser reaches, or a refusal where the browser refuses. The one deliberate
// difference: a browser's result that is not a DNS host name (a label outside [a-z0-9_-], empty,
// over 63 bytes or starting or ending with '-'; a name over 253 bytes) is refused here,
// because no resolver or public host can use it. The test decides that from the browser's
// result with its own rule, not from ours.

// whatwgHost returns the canonical host the proxy reaches for requestURI, or ok=false when
// it refuses. Address and name policy is not applied: this is about which host, not whether.
func whatwgHost(requestURI string) (host string, ok bool) {
	u, err := ParseTarget(requestURI)
	if err != nil {
		return "", false
	}
	h, _, _, perr := splitHostPort(u.Host)
	if perr != nil {
		return "", false
	}
	c, cerr := canonicalHost(h)
	if cerr != nil {
		return "", false
	}
	return c.name, true
}

// isDNSHostName is the deliberate difference above, stated independently of host.go.
func isDNSHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		if strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// pathForm is how a browser sends fetch(proxy + target): the target in the path, with the
// path percent-encode set (controls, space, non-ASCII, and "<>`{} ) percent-encoded.
func pathForm(target string) string {
	var b strings.Builder
	b.WriteByte('/')
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>`{}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// queryForm is fetch(proxy + "?url=" + encodeURIComponent(target)).
func queryForm(target string) string { return "/?url=" + url.QueryEscape(target) }

// stricterThanBrowsers are inputs a browser accepts and golang.org/x/net/idna refuses, each
// with why. The test holds the refusal, so a library update that changes it is noticed.
var stricterThanBrowsers = map[string]string{
	// x/net/idna applies RFC 5893 rule 1 (a label starts with L, R or AL) to the digit-only
	// label of a Bidi domain name; browsers accept it. Refusing costs nothing real.
	"https://1.\u064A/x": "Bidi rule on a digit-only label",
}

func checkAgainstBrowser(t *testing.T, target string, want string, browserOK bool) {
	t.Helper()
	if browserOK && !isDNSHostName(want) {
		browserOK = false // the deliberate difference
	}
	if _, known := stricterThanBrowsers[target]; known {
		browserOK = false
	}
	want = strings.TrimSuffix(want, ".")
	for form, uri := range map[string]string{"path": pathForm(target), "query": queryForm(target)} {
		got, ok := whatwgHost(uri)
		switch {
		case ok != browserOK:
			t.Errorf("%s form %q: reached=%v (%q), browser reached=%v (%q)", form, uri, ok, got, browserOK, want)
		case ok && got != want:
			t.Errorf("%s form %q: host %q, browser %q", form, uri, got, want)
		}
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "whatwg", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestWHATWGToASCII(t *testing.T) {
	var entries []json.RawMessage
	readJSON(t, "toascii.json", &entries)
	n := 0
	for _, raw := range entries {
		var e struct {
			Input  string  `json:"input"`
			Output *string `json:"output"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Input == "" {
			continue // the leading comment string
		}
		n++
		t.Run(e.Input, func(t *testing.T) {
			want := ""
			if e.Output != nil {
				want = *e.Output
			}
			checkAgainstBrowser(t, "https://"+e.Input+"/x", want, e.Output != nil)
		})
	}
	if n < 40 {
		t.Fatalf("only %d entries read from toascii.json", n)
	}
}

func TestWHATWGURLHosts(t *testing.T) {
	var data struct {
		Tests []struct {
			Input    string `json:"input"`
			Hostname string `json:"hostname"`
			Failure  bool   `json:"failure"`
		} `json:"tests"`
	}
	readJSON(t, "urltestdata-hosts.json", &data)
	if len(data.Tests) < 70 {
		t.Fatalf("only %d entries read from urltestdata-hosts.json", len(data.Tests))
	}
	for _, e := range data.Tests {
		t.Run(e.Input, func(t *testing.T) {
			checkAgainstBrowser(t, e.Input, e.Hostname, !e.Failure)
		})
	}
}
