package allowlist

import (
	"net/netip"
	"testing"
)

// The address policy under configuration: zones, AllowPrivate, SelfAddrs, AllowPorts.

func TestCheckAddrZones(t *testing.T) {
	p := mustPolicy(t, Config{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("::/0")}})
	for _, s := range []string{"fe80::1%eth0", "2606:4700:4700::1111%eth0", "ff02::1%1"} {
		t.Run(s, func(t *testing.T) {
			if got := deniedClass(t, p.CheckAddr(netip.AddrPortFrom(netip.MustParseAddr(s), 80))); got != "zoned" {
				t.Errorf("class = %q, want zoned", got)
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		if err := p.CheckAddr(netip.AddrPort{}); asError(t, err) == nil {
			t.Error("the zero AddrPort was allowed")
		}
	})
}

func TestCheckAddrAllowPrivate(t *testing.T) {
	prefixes, err := ParsePrefixes("127.0.0.0/8, ::ffff:10.0.0.0/104 fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, Config{AllowPrivate: prefixes})
	exact := mustPolicy(t, Config{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("100.64.0.0/10")}})
	if got := deniedClass(t, exact.CheckAddr(netip.MustParseAddrPort("169.254.169.254:80"))); got != "" {
		t.Errorf("a metadata address listed exactly is refused: %q", got)
	}
	if got := deniedClass(t, exact.CheckAddr(netip.MustParseAddrPort("100.100.100.200:80"))); got != "metadata" {
		t.Errorf("100.64.0.0/10 opened Alibaba's metadata address: %q", got)
	}
	if got := deniedClass(t, exact.CheckAddr(netip.MustParseAddrPort("100.64.1.2:80"))); got != "" {
		t.Errorf("an allowed CGNAT address is refused: %q", got)
	}
	for _, c := range []struct{ addr, want string }{
		{"127.0.0.1", ""},
		{"127.255.255.255", ""},
		{"::ffff:127.0.0.1", ""},
		{"10.1.2.3", ""},
		{"::ffff:10.1.2.3", ""},
		{"fd00::1", ""},
		{"fd00:ec2::1", ""}, // inside an explicitly allowed prefix
		// Metadata addresses need an exact entry: a range never opens them.
		{"fd00:ec2::254", "metadata"},
		{"2002:7f00:1::1", ""},
		{"64:ff9b::7f00:1", ""},
		{"::1", "loopback"},
		{"128.0.0.0", ""},
		{"11.0.0.0", ""},
		{"169.254.169.254", "metadata"},
		{"192.168.1.1", "private"},
		{"fc00::1", "unique-local"},
		{"2002:c0a8:101::1", "private via 6to4"},
	} {
		t.Run(c.addr, func(t *testing.T) {
			got := deniedClass(t, p.CheckAddr(netip.AddrPortFrom(netip.MustParseAddr(c.addr), 8080)))
			if got != c.want {
				t.Errorf("class = %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckAddrSelf(t *testing.T) {
	p := mustPolicy(t, Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
		SelfAddrs: []netip.AddrPort{
			netip.MustParseAddrPort("34.1.2.3:8080"),
			netip.MustParseAddrPort("[::]:9000"),
			netip.MustParseAddrPort("34.1.2.3:9000"),
			netip.MustParseAddrPort("[::ffff:10.0.0.7]:7000"),
		},
	})
	for _, c := range []struct{ addr, want string }{
		{"34.1.2.3:8080", "self"},
		{"[::ffff:34.1.2.3]:8080", "self"},
		{"[64:ff9b::2201:203]:8080", "self"},
		{"[2002:2201:203::1]:8080", "self"},
		{"34.1.2.3:443", ""},
		{"34.1.2.4:8080", ""},
		{"10.0.0.7:7000", "self"},
		{"10.0.0.7:7001", ""},
		{"127.0.0.1:9000", "self"},
		{"127.3.4.5:9000", "self"},
		{"[::1]:9000", "self"},
		{"0.0.0.0:9000", "self"},
		{"[::]:9000", "self"},
		{"34.1.2.3:9000", "self"},
		{"127.0.0.1:9001", ""},
		{"8.8.8.8:9000", ""},
	} {
		t.Run(c.addr, func(t *testing.T) {
			got := deniedClass(t, p.CheckAddr(netip.MustParseAddrPort(c.addr)))
			if got != c.want {
				t.Errorf("class = %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckAddrPorts(t *testing.T) {
	p := mustPolicy(t, Config{AllowPorts: []uint16{443, 80, 443}})
	any := mustPolicy(t, Config{})
	for _, c := range []struct {
		policy *Policy
		addr   string
		want   string
	}{
		{p, "8.8.8.8:443", ""},
		{p, "8.8.8.8:80", ""},
		{p, "8.8.8.8:8080", "port"},
		{p, "8.8.8.8:22", "port"},
		{p, "8.8.8.8:0", "port"},
		{p, "127.0.0.1:22", "port"},
		// Without AllowPorts, the ports browsers refuse are refused too.
		{any, "8.8.8.8:22", "port"},
		{any, "8.8.8.8:25", "port"},
		{any, "8.8.8.8:6379", "port"},
		{any, "8.8.8.8:11211", "port"},
		{any, "8.8.8.8:10080", "port"},
		{any, "8.8.8.8:8080", ""},
		{any, "8.8.8.8:443", ""},
		{any, "8.8.8.8:65535", ""},
		{mustPolicy(t, Config{AllowPorts: []uint16{25}}), "8.8.8.8:25", ""},
		{any, "8.8.8.8:0", "port"},
	} {
		t.Run(c.addr, func(t *testing.T) {
			got := deniedClass(t, c.policy.CheckAddr(netip.MustParseAddrPort(c.addr)))
			if got != c.want {
				t.Errorf("class = %q, want %q", got, c.want)
			}
		})
	}
}

func TestZeroPolicyIsDefault(t *testing.T) {
	var p Policy
	if got := deniedClass(t, p.CheckAddr(netip.MustParseAddrPort("127.0.0.1:80"))); got != "loopback" {
		t.Errorf("zero Policy: class = %q, want loopback", got)
	}
	if err := p.CheckAddr(netip.MustParseAddrPort("8.8.8.8:80")); err != nil {
		t.Errorf("zero Policy refused a public address: %v", err)
	}
}
