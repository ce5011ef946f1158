package allowlist

import (
	"net/url"
	"strings"
	"testing"
)

// targetCase describes one CheckTarget call. host is placed in URL.Host verbatim (the
// server's parser may hand over anything); want is "" for success (then canon is the
// expected URL.Host), else the expected Kind and a fragment of the reason.
type targetCase struct {
	name   string
	scheme string
	host   string
	path   string
	kind   Kind
	reason string
	canon  string
}

func runTargetCases(t *testing.T, p *Policy, cases []targetCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			scheme := c.scheme
			if scheme == "" {
				scheme = "https"
			}
			u := &url.URL{Scheme: scheme, Host: c.host, Path: c.path}
			checkTargetCase(t, p, u, c)
		})
	}
}

func checkTargetCase(t *testing.T, p *Policy, u *url.URL, c targetCase) {
	t.Helper()
	before := *u
	e := asError(t, p.CheckTarget(u))
	if c.kind == 0 {
		if e != nil {
			t.Fatalf("CheckTarget(%q) = %v (%v), want success", before.Host, e, e.Kind)
		}
		if u.Host != c.canon {
			t.Errorf("canonical host of %q = %q, want %q", before.Host, u.Host, c.canon)
		}
		return
	}
	if e == nil {
		t.Fatalf("CheckTarget(%q) succeeded as %q, want %v", before.Host, u.Host, c.kind)
	}
	if e.Kind != c.kind || !strings.Contains(e.Reason, c.reason) {
		t.Errorf("CheckTarget(%q) = %v %q, want %v containing %q", before.Host, e.Kind, e.Reason, c.kind, c.reason)
	}
	if *u != before {
		t.Errorf("CheckTarget modified the URL on error: %+v", u)
	}
}

func legacySpellings(class string, hosts ...string) []targetCase {
	var out []targetCase
	for _, h := range hosts {
		out = append(out, targetCase{name: class + "/" + h, host: h, kind: KindTarget, reason: "target is a private address (" + class + ")"})
	}
	return out
}

func TestCheckTargetLegacyIPv4(t *testing.T) {
	p := mustPolicy(t, Config{})
	var cases []targetCase
	cases = append(cases, legacySpellings("loopback",
		"127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.1", "0x7f.0.0.1", "127.1", "127.0.1",
		"0x7F000001", "017700000001", "0177.1", "127.0x0.1", "127.0.0.1.", "0000177.0.0.1",
		"0x0000007f.1", "127.0.0.1:80", "0x7f.0.0x0.01")...)
	cases = append(cases, legacySpellings("private",
		"10.0.0.1", "167772161", "012.0.0.1", "0xa.1", "10.1", "0x0a000001", "10.0.1", "012.1",
		"0xA.0.0.1", "10.0.0.1.")...)
	cases = append(cases, legacySpellings("metadata",
		"169.254.169.254", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518",
		"0xa9.0xfe.0xa9.0xfe", "169.16689662", "0251.0xfe.43518")...)
	cases = append(cases, legacySpellings("unspecified", "0", "0x0", "0.0.0.0", "0x")...)
	for _, h := range []string{
		"1.2.3.4.5", "256.1.1.1", "1.256.1.1", "127.0.0.256", "127.0.65536", "4294967296",
		"09.0.0.1", "0x7g.0.0.1", "foo.123", "example.0x", "a.0x1", "127.0.0.08", "1.2.3.+4",
		"0x100000000", "999999999999999999999999999",
	} {
		cases = append(cases, targetCase{name: "malformed/" + h, host: h, kind: KindInvalid})
	}
	cases = append(cases,
		targetCase{name: "public dotted", host: "8.8.8.8", canon: "8.8.8.8"},
		targetCase{name: "public decimal", host: "134744072", canon: "8.8.8.8"},
		targetCase{name: "public hex", host: "0x8.0x8.0x8.0x8", canon: "8.8.8.8"},
		targetCase{name: "public short", host: "8.8.2056", canon: "8.8.8.8"},
		targetCase{name: "numeric-looking name", host: "1.2.3.0xg.example", canon: "1.2.3.0xg.example"},
		targetCase{name: "hyphen label", host: "1.2.3.-4", kind: KindInvalid},
	)
	runTargetCases(t, p, cases)
}

func TestCheckTargetIPv6(t *testing.T) {
	p := mustPolicy(t, Config{})
	runTargetCases(t, p, []targetCase{
		{name: "loopback", host: "[::1]", kind: KindTarget, reason: "(loopback)"},
		{name: "mapped loopback", host: "[::ffff:127.0.0.1]", kind: KindTarget, reason: "(loopback)"},
		{name: "mapped hex", host: "[0:0:0:0:0:ffff:7f00:1]", kind: KindTarget, reason: "(loopback)"},
		{name: "nat64 metadata", host: "[64:ff9b::a9fe:a9fe]", kind: KindTarget, reason: "(metadata via nat64)"},
		{name: "unique local", host: "[fd00::1]:8080", kind: KindTarget, reason: "(unique-local)"},
		{name: "zone", host: "[fe80::1%eth0]", kind: KindInvalid},
		{name: "encoded zone", host: "[fe80::1%25eth0]", kind: KindInvalid},
		{name: "v4 in brackets", host: "[127.0.0.1]", kind: KindInvalid},
		{name: "unbracketed", host: "::1", kind: KindInvalid},
		{name: "unterminated", host: "[::1", kind: KindInvalid},
		{name: "junk after", host: "[::1]x", kind: KindInvalid},
		{name: "public", host: "[2606:4700:4700::1111]", canon: "[2606:4700:4700::1111]"},
		{name: "public long form", host: "[2606:4700:4700:0:0:0:0:1111]:443", canon: "[2606:4700:4700::1111]"},
		{name: "public upper with port", host: "[2606:4700:4700::ABCD]:8443", canon: "[2606:4700:4700::abcd]:8443"},
	})
}

func TestCheckTargetSyntax(t *testing.T) {
	p := mustPolicy(t, Config{})
	runTargetCases(t, p, []targetCase{
		{name: "ftp", scheme: "ftp", host: "example.com", kind: KindInvalid},
		{name: "file", scheme: "file", host: "example.com", kind: KindInvalid},
		{name: "javascript", scheme: "javascript", host: "example.com", kind: KindInvalid},
		{name: "no scheme", scheme: "-", host: "example.com", kind: KindInvalid},
		{name: "upper scheme", scheme: "HTTPS", host: "example.com", canon: "example.com"},
		{name: "empty host", host: "", kind: KindInvalid},
		{name: "backslash", host: `example.com\@127.0.0.1`, kind: KindInvalid, reason: "backslash"},
		{name: "at sign", host: "example.com@127.0.0.1", kind: KindInvalid},
		{name: "tab", host: "exa\tmple.com", kind: KindInvalid, reason: "control"},
		{name: "newline", host: "example.com\r\nX: y", kind: KindInvalid, reason: "control"},
		{name: "nul", host: "example.com\x00.evil", kind: KindInvalid, reason: "control"},
		{name: "del", host: "example.com\x7f", kind: KindInvalid, reason: "control"},
		{name: "space", host: "exa mple.com", kind: KindInvalid, reason: "space"},
		{name: "percent", host: "%31%32%37.0.0.1", kind: KindInvalid, reason: "percent"},
		{name: "percent name", host: "ex%61mple.com", kind: KindInvalid, reason: "percent"},
		{name: "slash", host: "example.com/x", kind: KindInvalid},
		{name: "star", host: "*.example.com", kind: KindInvalid},
		{name: "empty label", host: "example..com", kind: KindInvalid},
		{name: "leading dot", host: ".example.com", kind: KindInvalid},
		{name: "two trailing dots", host: "example.com..", kind: KindInvalid},
		{name: "only a dot", host: ".", kind: KindInvalid},
		{name: "long label", host: strings.Repeat("a", 64) + ".com", kind: KindInvalid},
		{name: "long name", host: strings.Repeat("a.", 127) + "com", kind: KindInvalid},
		{name: "trailing dot", host: "example.com.", canon: "example.com"},
		{name: "uppercase", host: "EXAMPLE.Com", canon: "example.com"},
		{name: "underscore", host: "my_host.example.com", canon: "my_host.example.com"},
		{name: "ipv4 with port", host: "8.8.8.8:8080", canon: "8.8.8.8:8080"},
	})
	for _, c := range []struct{ name, raw string }{
		{"userinfo", "https://user:pass@example.com/"},
		{"user only", "https://user@example.com/"},
		{"at confusion", "https://example.com@127.0.0.1/"},
		{"opaque", "https:example.com"},
	} {
		t.Run("parsed/"+c.name, func(t *testing.T) {
			u, err := url.Parse(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			checkTargetCase(t, p, u, targetCase{kind: KindInvalid})
		})
	}
	t.Run("parsed/decoded percent host", func(t *testing.T) {
		// net/url decodes percent-encoded UTF-8 in hosts: this is "１２７.0.0.1".
		u, err := url.Parse("http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/")
		if err != nil {
			t.Fatal(err)
		}
		checkTargetCase(t, p, u, targetCase{kind: KindTarget, reason: "(loopback)"})
	})
	t.Run("nil", func(t *testing.T) {
		if e := asError(t, p.CheckTarget(nil)); e == nil || e.Kind != KindInvalid {
			t.Errorf("CheckTarget(nil) = %v", e)
		}
	})
}

func TestCheckTargetUnicode(t *testing.T) {
	p := mustPolicy(t, Config{})
	runTargetCases(t, p, []targetCase{
		{name: "ideographic dots", host: "127。0。0。1", kind: KindTarget, reason: "(loopback)"},
		{name: "fullwidth dots", host: "127．0．0．1", kind: KindTarget, reason: "(loopback)"},
		{name: "halfwidth dots", host: "127｡0｡0｡1", kind: KindTarget, reason: "(loopback)"},
		{name: "fullwidth digits", host: "１２７.０.０.１", kind: KindTarget, reason: "(loopback)"},
		{name: "fullwidth all", host: "１２７．０．０．１", kind: KindTarget, reason: "(loopback)"},
		{name: "fullwidth hex", host: "０ｘ７ｆ．１", kind: KindTarget, reason: "(loopback)"},
		{name: "fullwidth metadata", host: "１６９．２５４．１６９．２５４", kind: KindTarget, reason: "(metadata)"},
		{name: "fullwidth localhost", host: "ｌｏｃａｌｈｏｓｔ", kind: KindTarget, reason: "localhost"},
		{name: "localhost ideographic dot", host: "localhost。", kind: KindTarget, reason: "localhost"},
		{name: "fullwidth percent", host: "ex％61mple.com", kind: KindInvalid},
		{name: "fullwidth slash", host: "example.com／x", kind: KindInvalid},
		{name: "fullwidth colon", host: "127.0.0.1：80", kind: KindInvalid},
		{name: "math digits", host: "𝟏𝟐𝟕.0.0.1", kind: KindTarget, reason: "(loopback)"},
		{name: "enclosed localhost", host: "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", kind: KindTarget, reason: "localhost"},
		{name: "letterlike e", host: "ℯxample.com", canon: "example.com"},
		{name: "letterlike H", host: "\u210Cello.example", canon: "hello.example"},
		{name: "micro sign", host: "\u00B5.example", canon: "xn--xxa.example"},
		{name: "kelvin sign", host: "\u212Aey.example", canon: "key.example"},
		{name: "dotted capital I", host: "\u0130nternal.example", canon: "xn--internal-o0e.example"},
		{name: "soft hyphen", host: "local\u00adhost", kind: KindTarget, reason: "localhost"},
		{name: "zero width joiner", host: "ex\u200dample.com", kind: KindInvalid},
		{name: "ligature", host: "\ufb01le.example", canon: "file.example"},
		{name: "digraph", host: "\u01c5ango.example", canon: "xn--dango-uib.example"},
		{name: "long s", host: "\u017fecure.example", canon: "secure.example"},
		{name: "ordinal indicator", host: "b\u00aank.example", canon: "bank.example"},
		{name: "enclosed", host: "\u24d0.example", canon: "a.example"},
		{name: "halfwidth katakana", host: "\uff71.example", canon: "xn--cck.example"},
		{name: "mark first", host: "\u0308a.example", kind: KindInvalid},
		{name: "invalid utf8", host: "\xff.example", kind: KindInvalid},
		{name: "fake a-label", host: "xn--zz.example", kind: KindInvalid},
		{name: "ascii a-label", host: "xn--abc-.example", kind: KindInvalid},
		{name: "mixed ascii in unicode label", host: "b\u00fcch_er.example", canon: "xn--bch_er-3ya.example"},
		{name: "bidi rule", host: "\u064Aa.example", kind: KindInvalid},
		{name: "a-label of a joiner", host: "xn--1ug.example", kind: KindInvalid},
		{name: "non-canonical a-label of a mapped label", host: "xn--Bcher-kva.example", canon: "xn--bcher-kva.example"},
		{name: "example ideographic dot", host: "example。com", canon: "example.com"},
		{name: "fullwidth letters", host: "ＥＸＡＭＰＬＥ.com", canon: "example.com"},
		{name: "idn", host: "bücher.example", canon: "xn--bcher-kva.example"},
		{name: "idn upper", host: "BÜCHER.example", canon: "xn--bcher-kva.example"},
		{name: "a-label", host: "xn--bcher-kva.example", canon: "xn--bcher-kva.example"},
		{name: "a-label upper", host: "XN--BCHER-KVA.EXAMPLE", canon: "xn--bcher-kva.example"},
		{name: "decomposed is normalised (NFC)", host: "bu\u0308cher.example", canon: "xn--bcher-kva.example"},
		{name: "japanese", host: "日本語.jp", canon: "xn--wgv71a119e.jp"},
		{name: "iana test", host: "例え.テスト", canon: "xn--r8jz45g.xn--zckzah"},
		{name: "cyrillic", host: "пример.рф", canon: "xn--e1afmkfd.xn--p1ai"},
		{name: "eszett kept", host: "straße.de", canon: "xn--strae-oqa.de"},
		{name: "prolonged sound mark", host: "ー.jp", canon: "xn--wek.jp"},
		{name: "idn with port", host: "münchen.de:8443", canon: "xn--mnchen-3ya.de:8443"},
		{name: "idn ideographic dot", host: "münchen。de", canon: "xn--mnchen-3ya.de"},
	})
}

func TestCheckTargetNeverPublicNames(t *testing.T) {
	p := mustPolicy(t, Config{})
	var cases []targetCase
	for _, h := range []string{
		"localhost", "LOCALHOST", "localhost.", "foo.localhost", "localhost:8080", "intranet",
		"metadata", "instance-data", "metadata.google.internal", "printer.local", "nas.lan",
		"router.home.arpa", "x.localdomain", "x.corp", "x.intranet", "x.home", "x.private",
		"home.arpa", "a.b.internal",
	} {
		cases = append(cases, targetCase{name: h, host: h, kind: KindTarget, reason: "local-only"})
	}
	for _, h := range []string{"localhost.example.com", "local.example.com", "internal.example.com", "corp.example"} {
		cases = append(cases, targetCase{name: h, host: h, canon: h})
	}
	runTargetCases(t, p, cases)
}

func TestCheckTargetPorts(t *testing.T) {
	def := mustPolicy(t, Config{})
	only443 := mustPolicy(t, Config{AllowPorts: []uint16{443}})
	runTargetCases(t, def, []targetCase{
		{name: "https default", host: "example.com:443", canon: "example.com"},
		{name: "http default", scheme: "http", host: "example.com:80", canon: "example.com"},
		{name: "http 443 kept", scheme: "http", host: "example.com:443", canon: "example.com:443"},
		{name: "leading zeros", host: "example.com:0443", canon: "example.com"},
		{name: "other", host: "example.com:8443", canon: "example.com:8443"},
		{name: "empty", host: "example.com:", canon: "example.com"},
		{name: "zero", host: "example.com:0", kind: KindInvalid},
		{name: "too big", host: "example.com:65536", kind: KindInvalid},
		{name: "sign", host: "example.com:+80", kind: KindInvalid},
		{name: "hex", host: "example.com:0x50", kind: KindInvalid},
		{name: "two ports", host: "example.com:80:80", kind: KindInvalid},
	})
	runTargetCases(t, only443, []targetCase{
		{name: "allowed", host: "example.com", canon: "example.com"},
		{name: "explicit allowed", host: "example.com:443", canon: "example.com"},
		{name: "http default", scheme: "http", host: "example.com", kind: KindTarget, reason: "port 80"},
		{name: "other", host: "example.com:8443", kind: KindTarget, reason: "port 8443"},
		{name: "ip literal", host: "8.8.8.8:22", kind: KindTarget, reason: "port 22"},
	})
}
