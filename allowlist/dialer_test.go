package allowlist

import (
	"net/netip"
	"testing"
)

// Control is called with a nil RawConn: it never touches the connection.
func TestControl(t *testing.T) {
	p := mustPolicy(t, Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		SelfAddrs:    []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8080")},
	})
	for _, c := range []struct {
		name, network, address, want string
	}{
		{"public v4", "tcp4", "8.8.8.8:443", ""},
		{"public v6", "tcp6", "[2606:4700:4700::1111]:443", ""},
		{"public any", "tcp", "93.184.216.34:80", ""},
		{"allowed private", "tcp", "127.0.0.1:9999", ""},
		{"self", "tcp", "127.0.0.1:8080", "self"},
		{"mapped self", "tcp", "[::ffff:127.0.0.1]:8080", "self"},
		{"metadata", "tcp4", "169.254.169.254:80", "metadata"},
		{"loopback v6", "tcp6", "[::1]:80", "loopback"},
		{"private", "tcp", "10.0.0.1:80", "private"},
		{"nat64 metadata", "tcp6", "[64:ff9b::a9fe:a9fe]:80", "metadata via nat64"},
		{"zoned", "tcp6", "[fe80::1%eth0]:80", "zoned"},
		{"port zero", "tcp", "8.8.8.8:0", "port"},
		{"udp", "udp", "8.8.8.8:53", "refused to connect over udp"},
		{"unix", "unix", "/run/x.sock", "refused to connect over unix"},
		{"odd network", "tcp\n", "8.8.8.8:443", "refused to connect over this network"},
		{"name", "tcp", "localhost:80", "refused to connect to an unrecognised address"},
		{"no port", "tcp", "8.8.8.8", "refused to connect to an unrecognised address"},
		{"bare v6", "tcp", "::1:80", "refused to connect to an unrecognised address"},
		{"empty", "tcp", "", "refused to connect to an unrecognised address"},
		{"legacy ipv4", "tcp", "0x7f.1:80", "refused to connect to an unrecognised address"},
		{"decimal ipv4", "tcp", "2130706433:80", "refused to connect to an unrecognised address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := deniedClass(t, p.Control(c.network, c.address, nil))
			if got != c.want {
				t.Errorf("Control(%q, %q) = %q, want %q", c.network, c.address, got, c.want)
			}
		})
	}
}
