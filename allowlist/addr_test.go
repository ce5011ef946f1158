package allowlist

import (
	"net/netip"
	"testing"
)

// The ranges below are the specification, written independently of specialRanges. For each
// range: the class of its first and last address, and of the addresses just outside it
// ("" = allowed, "-" = there is no such address).
var rangeEdges = []struct {
	cidr                       string
	first, last, before, after string
}{
	// IPv4
	{"0.0.0.0/8", "unspecified", "unspecified", "-", ""},
	{"10.0.0.0/8", "private", "private", "", ""},
	{"100.64.0.0/10", "cgnat", "cgnat", "", ""},
	{"100.100.100.200/32", "metadata", "metadata", "cgnat", "cgnat"},
	{"127.0.0.0/8", "loopback", "loopback", "", ""},
	{"168.63.129.16/32", "metadata", "metadata", "", ""},
	{"169.254.0.0/16", "link-local", "link-local", "", ""},
	{"169.254.0.23/32", "metadata", "metadata", "link-local", "link-local"},
	{"169.254.169.254/32", "metadata", "metadata", "link-local", "link-local"},
	{"169.254.170.2/32", "metadata", "metadata", "link-local", "link-local"},
	{"169.254.170.23/32", "metadata", "metadata", "link-local", "link-local"},
	{"172.16.0.0/12", "private", "private", "", ""},
	{"192.0.0.0/24", "protocol-assignment", "protocol-assignment", "", ""},
	{"192.0.0.192/32", "metadata", "metadata", "protocol-assignment", "protocol-assignment"},
	{"192.0.2.0/24", "documentation", "documentation", "", ""},
	{"192.88.99.0/24", "reserved", "reserved", "", ""},
	{"192.168.0.0/16", "private", "private", "", ""},
	{"198.18.0.0/15", "benchmarking", "benchmarking", "", ""},
	{"198.51.100.0/24", "documentation", "documentation", "", ""},
	{"203.0.113.0/24", "documentation", "documentation", "", ""},
	{"224.0.0.0/4", "multicast", "multicast", "", "reserved"},
	{"240.0.0.0/4", "reserved", "broadcast", "multicast", "-"},
	{"255.255.255.255/32", "broadcast", "broadcast", "reserved", "-"},

	// IPv6 (the IPv4 in ::/96, NAT64, 6to4 and Teredo of the first/last address is 0.0.0.0
	// or 255.255.255.255, hence the "via" classes)
	{"::/128", "unspecified", "unspecified", "-", "loopback"},
	{"::1/128", "loopback", "loopback", "unspecified", "unspecified via ipv4-compatible"},
	{"::/96", "unspecified", "broadcast via ipv4-compatible", "-", "reserved"},
	{"::ffff:0:0/96", "unspecified", "broadcast", "reserved", "reserved"},
	{"64:ff9b::/96", "unspecified via nat64", "broadcast via nat64", "reserved", "reserved"},
	{"64:ff9b:1::/48", "nat64-local", "nat64-local", "reserved", "reserved"},
	{"100::/64", "discard", "discard", "reserved", "reserved"},
	{"2001::/23", "unspecified via teredo", "protocol-assignment", "", ""},
	{"2001::/32", "unspecified via teredo", "broadcast via teredo", "", "protocol-assignment"},
	{"2001:2::/48", "benchmarking", "benchmarking", "protocol-assignment", "protocol-assignment"},
	{"2001:10::/28", "orchid", "orchid", "protocol-assignment", "orchid"},
	{"2001:20::/28", "orchid", "orchid", "orchid", "protocol-assignment"},
	{"2001:db8::/32", "documentation", "documentation", "", ""},
	{"2002::/16", "unspecified via 6to4", "broadcast via 6to4", "", ""},
	{"3ffe::/16", "reserved", "reserved", "", "documentation"},
	{"3fff::/20", "documentation", "documentation", "reserved", ""},
	{"fc00::/7", "unique-local", "unique-local", "reserved", "reserved"},
	{"fd00:ec2::23/128", "metadata", "metadata", "unique-local", "unique-local"},
	{"fd00:ec2::254/128", "metadata", "metadata", "unique-local", "unique-local"},
	{"fd20:ce::254/128", "metadata", "metadata", "unique-local", "unique-local"},
	{"fe80::/10", "link-local", "link-local", "reserved", "site-local"},
	{"fec0::/10", "site-local", "site-local", "link-local", "multicast"},
	{"ff00::/8", "multicast", "multicast", "site-local", "-"},
	{"2000::/3", "", "", "reserved", "reserved"}, // global unicast: everything else is reserved
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestCheckAddrRangeEdges(t *testing.T) {
	p := mustPolicy(t, Config{})
	for _, r := range rangeEdges {
		pr := netip.MustParsePrefix(r.cidr)
		first, last := pr.Addr(), lastAddr(pr)
		cases := []struct {
			name string
			addr netip.Addr
			want string
		}{
			{"first", first, r.first},
			{"last", last, r.last},
			{"before", first.Prev(), r.before},
			{"after", last.Next(), r.after},
		}
		for _, c := range cases {
			t.Run(r.cidr+"/"+c.name, func(t *testing.T) {
				if c.want == "-" {
					if c.addr.IsValid() {
						t.Fatalf("expected no address %s the range, got %v", c.name, c.addr)
					}
					return
				}
				got := deniedClass(t, p.CheckAddr(netip.AddrPortFrom(c.addr, 443)))
				if got != c.want {
					t.Errorf("CheckAddr(%v) class = %q, want %q", c.addr, got, c.want)
				}
			})
		}
	}
}

func TestCheckAddrPublic(t *testing.T) {
	p := mustPolicy(t, Config{})
	for _, s := range []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
		"::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1", "1.0.0.0", "223.255.255.255",
		"192.0.1.1", "192.31.196.1", "192.52.193.1", "192.175.48.1", "100.63.255.255",
		"100.128.0.0", "172.15.255.255", "172.32.0.0", "169.255.0.1", "126.255.255.255",
	} {
		t.Run(s, func(t *testing.T) {
			if err := p.CheckAddr(netip.AddrPortFrom(netip.MustParseAddr(s), 443)); err != nil {
				t.Errorf("CheckAddr(%s) = %v, want allowed", s, err)
			}
		})
	}
}

// Embeddings of IPv4 in IPv6 are judged by the IPv4 they carry.
func sixToFour(v4 netip.Addr) netip.Addr {
	b4 := v4.As4()
	var b [16]byte
	b[0], b[1] = 0x20, 0x02
	copy(b[2:6], b4[:])
	b[15] = 1
	return netip.AddrFrom16(b)
}

func embedSuffix(prefix string, v4 netip.Addr) netip.Addr {
	b := netip.MustParseAddr(prefix).As16()
	b4 := v4.As4()
	copy(b[12:], b4[:])
	return netip.AddrFrom16(b)
}

func embedTeredoAddr(server, client netip.Addr) netip.Addr {
	s, c := server.As4(), client.As4()
	b := [16]byte{0x20, 0x01, 0, 0, s[0], s[1], s[2], s[3], 0x80, 0, 0xf2, 0x27}
	for i := range c {
		b[12+i] = ^c[i]
	}
	return netip.AddrFrom16(b)
}

func TestCheckAddrEmbeddedIPv4(t *testing.T) {
	p := mustPolicy(t, Config{})
	public := netip.MustParseAddr("8.8.8.8")
	for _, c := range []struct {
		v4, class string
	}{
		{"127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"169.254.169.254", "metadata"},
		{"100.64.0.1", "cgnat"},
		{"8.8.8.8", ""},
	} {
		v4 := netip.MustParseAddr(c.v4)
		via := func(kind string) string {
			if c.class == "" {
				return ""
			}
			return c.class + " via " + kind
		}
		compat := "ipv4-compatible"
		if c.class != "" {
			compat = c.class + " via ipv4-compatible"
		}
		rows := []struct {
			name string
			addr netip.Addr
			want string
		}{
			{"mapped", netip.AddrFrom16(v4.As16()), c.class},
			{"compatible", embedSuffix("::", v4), compat},
			{"nat64", embedSuffix("64:ff9b::", v4), via("nat64")},
			{"nat64-local", embedSuffix("64:ff9b:1::", v4), "nat64-local"},
			{"6to4", sixToFour(v4), via("6to4")},
			{"teredo-server", embedTeredoAddr(v4, public), via("teredo")},
			{"teredo-client", embedTeredoAddr(public, v4), via("teredo")},
		}
		for _, r := range rows {
			t.Run(c.v4+"/"+r.name, func(t *testing.T) {
				got := deniedClass(t, p.CheckAddr(netip.AddrPortFrom(r.addr, 80)))
				if got != r.want {
					t.Errorf("CheckAddr(%v) class = %q, want %q", r.addr, got, r.want)
				}
			})
		}
	}
}
