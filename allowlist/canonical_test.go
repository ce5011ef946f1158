package allowlist

import (
	"strconv"
	"testing"
)

// FuzzCanonicalSpellingKept: where canonicalHost and canonicalPort keep the
// text as written (it is already canonical, so nothing is allocated), it is
// exactly what formatting the parsed value gives.
func FuzzCanonicalSpellingKept(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "0.0.0.0", "255.255.255.255", "127.0.0.01", "127.1", "0x7f.0.0.1",
		"10.0.0.010", "1.2.3.4.", "256.1.1.1", "01.2.3.4", "example.com"} {
		f.Add(s, "8080")
	}
	f.Add("127.0.0.1", "08080")
	f.Add("127.0.0.1", "0")
	f.Add("127.0.0.1", "65536")
	f.Fuzz(func(t *testing.T, host, port string) {
		if h, err := canonicalHost(host); err == nil && h.addr.Is4() && h.name != h.addr.String() {
			t.Fatalf("canonicalHost(%q) = %q, want %q", host, h.name, h.addr.String())
		}
		if text, n, err := canonicalPort("https", port, true); err == nil && text != "" && text != strconv.Itoa(int(n)) {
			t.Fatalf("canonicalPort(%q) = %q, want %d", port, text, n)
		}
	})
}

func TestCanonicalIPv4Spellings(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "0.0.0.0": "0.0.0.0", "127.0.0.01": "127.0.0.1", "0177.0.0.1": "127.0.0.1",
		"127.1": "127.0.0.1", "0x7f.0.0.1": "127.0.0.1", "2130706433": "127.0.0.1", "10.0.0.010": "10.0.0.8",
		"127.0.0.1.": "127.0.0.1",
	} {
		h, err := canonicalHost(in)
		if err != nil || h.name != want {
			t.Errorf("canonicalHost(%q) = %q, %v; want %q", in, h.name, err, want)
		}
	}
}
