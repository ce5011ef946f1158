package allowlist

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckAddr checks invariants of the address policy over arbitrary addresses:
//   - it never panics and only returns KindTarget errors, without echoing the address;
//   - everything net/netip itself knows to be non-public is refused (the policy is stricter);
//   - an allowed IPv6 address is global unicast (2000::/3) or well-known NAT64;
//   - a refused IPv4 address stays refused in every IPv6 embedding, and a public one is
//     allowed in each embedding that can reach it (mapped, NAT64, 6to4, Teredo);
//   - an embedded address inside AllowPrivate is allowed;
//   - Control agrees with CheckAddr.
func FuzzCheckAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "8.8.8.8", "169.254.169.254", "::1", "2606:4700:4700::1111", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "2001:0:808:808::8000:ffff", "fd00:ec2::254"} {
		f.Add(netip.MustParseAddr(s).AsSlice(), uint16(443))
	}
	def := mustPolicy(f, Config{})
	f.Fuzz(func(t *testing.T, raw []byte, port uint16) {
		a, ok := netip.AddrFromSlice(raw)
		if !ok {
			return
		}
		ap := netip.AddrPortFrom(a, port)
		err := def.CheckAddr(ap)
		if e := asError(t, err); e != nil && (e.Kind != KindTarget || e.Reason == "" || strings.Contains(e.Reason, a.Unmap().String())) {
			t.Fatalf("CheckAddr(%v) = %v %q", ap, e.Kind, e.Reason)
		}
		if (err == nil) != (def.Control("tcp", ap.String(), nil) == nil) {
			t.Fatalf("Control and CheckAddr disagree on %v", ap)
		}
		if port == 0 || isBadPort(port) {
			if err == nil {
				t.Fatalf("port %d allowed: %v", port, ap)
			}
			return // the embedding invariants below are about addresses
		}
		u := a.Unmap()
		if err == nil && (u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
			u.IsInterfaceLocalMulticast() || u.IsMulticast() || u.IsUnspecified() || !u.IsGlobalUnicast()) {
			t.Fatalf("CheckAddr allowed %v, which net/netip calls non-public", ap)
		}
		if err == nil && u.Is6() && !globalUnicast6.Contains(u) && !netip.MustParsePrefix("64:ff9b::/96").Contains(u) {
			t.Fatalf("CheckAddr allowed %v outside 2000::/3", ap)
		}
		if !u.Is4() {
			return
		}
		public := netip.MustParseAddr("8.8.8.8")
		reachable := map[string]netip.Addr{
			"mapped":        netip.AddrFrom16(u.As16()),
			"nat64":         embedSuffix("64:ff9b::", u),
			"6to4":          sixToFour(u),
			"teredo-server": embedTeredoAddr(u, public),
			"teredo-client": embedTeredoAddr(public, u),
		}
		for name, e := range reachable {
			if got := def.CheckAddr(netip.AddrPortFrom(e, port)); (got == nil) != (err == nil) {
				t.Fatalf("%v is %v but its %s embedding %v is %v", u, err, name, e, got)
			}
		}
		if def.CheckAddr(netip.AddrPortFrom(embedSuffix("::", u), port)) == nil {
			t.Fatalf("IPv4-compatible embedding of %v allowed", u)
		}
		if def.CheckAddr(netip.AddrPortFrom(embedSuffix("64:ff9b:1::", u), port)) == nil {
			t.Fatalf("local-use NAT64 embedding of %v allowed", u)
		}
		priv := mustPolicy(t, Config{AllowPrivate: []netip.Prefix{netip.PrefixFrom(u, 32)}})
		for name, e := range reachable {
			if got := priv.CheckAddr(netip.AddrPortFrom(e, port)); got != nil {
				t.Fatalf("%s embedding %v of allowed-private %v refused: %v", name, e, u, got)
			}
		}
	})
}

// FuzzCheckTarget checks CheckTarget over arbitrary hosts and paths:
//   - it never panics and only returns KindInvalid or KindTarget;
//   - an accepted host is canonical: ASCII, no upper case, survives url.Parse unchanged, and
//     checking it again accepts it unchanged;
//   - an accepted IP-literal host passes the address policy, an accepted name is not a
//     never-public name and does not end in a number;
//   - with an allowlist, an accepted host matches it.
func FuzzCheckTarget(f *testing.F) {
	for _, s := range []string{"example.com", "127.0.0.1", "0x7f.1", "１２７。０。０。１", "bücher.example", "[::ffff:7f00:1]:80", "localhost.", "a.example.com:8443", "xn--bcher-kva.example",
		"bu\u0308cher.example", "\ufb01le.example", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", "xn--1ug.example"} {
		f.Add(s, "/v1/x")
	}
	def := mustPolicy(f, Config{})
	scoped := mustPolicy(f, Config{AllowTargets: []string{"*.example.com", "api.example.org/v1/"}, DenyTargets: []string{"bad.example.com"}})
	f.Fuzz(func(t *testing.T, host, path string) {
		for _, p := range []*Policy{def, scoped} {
			u := &url.URL{Scheme: "https", Host: host, Path: path}
			e := asError(t, p.CheckTarget(u))
			if e != nil {
				if e.Kind != KindInvalid && e.Kind != KindTarget || e.Reason == "" {
					t.Fatalf("CheckTarget(%q) = %v %q", host, e.Kind, e.Reason)
				}
				continue
			}
			h := u.Host
			if !isASCII(h) || strings.ToLower(h) != h || !utf8.ValidString(h) {
				t.Fatalf("CheckTarget(%q) gave non-canonical host %q", host, h)
			}
			if pu, err := url.Parse("https://" + h + "/"); err != nil || pu.Host != h {
				t.Fatalf("canonical host %q does not survive url.Parse: %v", h, err)
			}
			again := &url.URL{Scheme: "https", Host: h, Path: path}
			if err := p.CheckTarget(again); err != nil || again.Host != h {
				t.Fatalf("re-check of %q (from %q) = %v, host %q", h, host, err, again.Host)
			}
			name, port, hasPort, serr := splitHostPort(h)
			if serr != nil || hasPort && port == "" {
				t.Fatalf("canonical host %q does not split: %v", h, serr)
			}
			pn := uint16(443)
			if hasPort {
				n, _, _ := canonicalPort("https", port, true)
				if n == "" {
					t.Fatalf("canonical host %q keeps the default port", h)
				}
				_, pn, _ = canonicalPort("https", port, true)
			}
			if a, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
				if err := p.CheckAddr(netip.AddrPortFrom(a, pn)); err != nil {
					t.Fatalf("accepted IP literal %q (from %q) is refused by the address policy: %v", h, host, err)
				}
			} else if localName(name) != "" || endsInNumber(name) {
				t.Fatalf("accepted host %q (from %q) is local or numeric", h, host)
			}
			if p == scoped && !strings.HasSuffix(name, ".example.com") && name != "api.example.org" {
				t.Fatalf("scoped policy accepted %q", h)
			}
		}
	})
}

// FuzzOriginMatch checks origin patterns and matching:
//   - NewOriginSet, Match and CheckOrigin never panic;
//   - canonical patterns are a fixed point: compiling them again gives the same patterns;
//   - an exact pattern matches its own canonical form;
//   - matching ignores ASCII case;
//   - a policy allowing the pattern agrees with Match.
func FuzzOriginMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"https://app.example.com", "https://APP.example.com:443"},
		{"https://*.example.com", "https://a.b.example.com"},
		{"http://localhost:*", "http://localhost:3000"},
		{"https://bücher.example", "https://xn--bcher-kva.example"},
		{"null", "null"},
		{"*", "chrome-extension://abc"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, origin string) {
		s, err := NewOriginSet([]string{pattern})
		if err != nil {
			return
		}
		got := s.Match(origin)
		if isASCII(origin) && s.Match(strings.ToUpper(origin)) != got && origin != "null" {
			t.Fatalf("pattern %q: Match(%q) = %v but not for its upper case", pattern, origin, got)
		}
		canon := s.Patterns()
		s2, err := NewOriginSet(canon)
		if err != nil || strings.Join(s2.Patterns(), " ") != strings.Join(canon, " ") {
			t.Fatalf("patterns %q are not a fixed point: %q, %v", canon, s2.Patterns(), err)
		}
		if c := canon[0]; !strings.Contains(c, "*") && !s.Match(c) {
			t.Fatalf("pattern %q does not match its canonical form %q", pattern, c)
		}
		if canon[0] == "null" || canon[0] == "*" {
			return
		}
		p := mustPolicy(t, Config{AllowOrigins: []string{pattern}})
		if ok := p.CheckOrigin(origin) == nil; ok != got {
			t.Fatalf("pattern %q origin %q: CheckOrigin ok=%v, Match=%v", pattern, origin, ok, got)
		}
	})
}
