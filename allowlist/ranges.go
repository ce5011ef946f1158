package allowlist

import "net/netip"

// embedding says how an IPv6 range carries an IPv4 address. A proxy that only checked the
// outer IPv6 address could be walked into 127.0.0.1 or 169.254.169.254 through a NAT64
// gateway, a 6to4 relay or a Teredo relay, so the embedded address is checked too.
type embedding uint8

const (
	embedNone   embedding = iota
	embedNAT64            // RFC 6052 /96: IPv4 in the last 32 bits
	embed6to4             // RFC 3056: IPv4 in bits 16..47
	embedTeredo           // RFC 4380: server IPv4 in bits 32..63, client IPv4 in the last 32 bits XOR 0xffffffff
	embedCompat           // RFC 4291 IPv4-compatible (deprecated): IPv4 in the last 32 bits
	// RFC 8215 local-use NAT64: the operator picks the layout; the last 32 bits (a /96
	// inside the /48, the usual choice) are judged, and the range is refused unless listed.
	embedNAT64Local
)

// routable reports whether addresses of a range with this embedding reach the public
// internet when the IPv4 they carry does: a NAT64 gateway, a 6to4 or Teredo relay. The
// deprecated IPv4-compatible form and local-use NAT64 do not.
func (e embedding) routable() bool {
	return e == embedNAT64 || e == embed6to4 || e == embedTeredo
}

// special is one row of the special-purpose table: a prefix that is not globally reachable
// unicast (class is the reason shown to clients), or an IPv6 range that embeds IPv4.
type special struct {
	prefix netip.Prefix
	class  string
	embed  embedding
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// specialRanges follows the IANA IPv4 and IPv6 Special-Purpose Address Registries plus the
// cloud metadata endpoints an SSRF attacker aims for first. Matching is longest-prefix, so a
// metadata /32 inside link-local reports "metadata". The table is read-only: it is built from
// literals once and never written.
//
// Deliberate departures from the registries, all towards denying:
//   - 192.0.0.0/24 is denied whole, including the anycast /32s IANA marks globally reachable.
//   - 2001::/23 (IETF protocol assignments) is denied whole, including the few anycast and
//     AS112/AMT assignments marked globally reachable; only Teredo (2001::/32) is judged by
//     the IPv4 addresses it carries.
//   - 192.88.99.0/24 (deprecated 6to4 relay anycast) and 3ffe::/16 (returned 6bone) are denied.
//   - IPv4-compatible ::/96 is deprecated and never routed: always denied (with the embedded
//     class as the reason when that is more telling).
//   - 168.63.129.16 is public address space but is Azure's WireServer on every Azure VM.
//
// IPv6 outside 2000::/3 (global unicast) that is not listed here is "reserved": the rule is
// an allowlist for IPv6, so a future special range outside 2000::/3 is denied by default.
var specialRanges = []special{
	// IPv4
	{pfx("0.0.0.0/8"), "unspecified", embedNone},
	{pfx("10.0.0.0/8"), "private", embedNone},
	{pfx("100.64.0.0/10"), "cgnat", embedNone},
	{pfx("100.100.100.200/32"), "metadata", embedNone}, // Alibaba Cloud
	{pfx("127.0.0.0/8"), "loopback", embedNone},
	{pfx("168.63.129.16/32"), "metadata", embedNone}, // Azure WireServer
	{pfx("169.254.0.0/16"), "link-local", embedNone},
	{pfx("169.254.0.23/32"), "metadata", embedNone},    // Tencent Cloud
	{pfx("169.254.169.254/32"), "metadata", embedNone}, // AWS, GCP, Azure, OCI, DigitalOcean, ...
	{pfx("169.254.170.2/32"), "metadata", embedNone},   // AWS ECS task credentials
	{pfx("169.254.170.23/32"), "metadata", embedNone},  // AWS EKS Pod Identity
	{pfx("172.16.0.0/12"), "private", embedNone},
	{pfx("192.0.0.0/24"), "protocol-assignment", embedNone},
	{pfx("192.0.0.192/32"), "metadata", embedNone}, // Oracle Cloud (legacy)
	{pfx("192.0.2.0/24"), "documentation", embedNone},
	{pfx("192.88.99.0/24"), "reserved", embedNone},
	{pfx("192.168.0.0/16"), "private", embedNone},
	{pfx("198.18.0.0/15"), "benchmarking", embedNone},
	{pfx("198.51.100.0/24"), "documentation", embedNone},
	{pfx("203.0.113.0/24"), "documentation", embedNone},
	{pfx("224.0.0.0/4"), "multicast", embedNone},
	{pfx("240.0.0.0/4"), "reserved", embedNone},
	{pfx("255.255.255.255/32"), "broadcast", embedNone},

	// IPv6 (::ffff:0:0/96 never reaches the table: addresses are unmapped first)
	{pfx("::/128"), "unspecified", embedNone},
	{pfx("::1/128"), "loopback", embedNone},
	{pfx("::/96"), "ipv4-compatible", embedCompat},
	{pfx("64:ff9b::/96"), "nat64", embedNAT64},
	{pfx("64:ff9b:1::/48"), "nat64-local", embedNAT64Local},
	{pfx("100::/64"), "discard", embedNone},
	{pfx("2001::/23"), "protocol-assignment", embedNone},
	{pfx("2001::/32"), "teredo", embedTeredo},
	{pfx("2001:2::/48"), "benchmarking", embedNone},
	{pfx("2001:10::/28"), "orchid", embedNone},
	{pfx("2001:20::/28"), "orchid", embedNone},
	{pfx("2001:db8::/32"), "documentation", embedNone},
	{pfx("2002::/16"), "6to4", embed6to4},
	{pfx("3ffe::/16"), "reserved", embedNone},
	{pfx("3fff::/20"), "documentation", embedNone},
	{pfx("fc00::/7"), "unique-local", embedNone},
	{pfx("fd00:ec2::23/128"), "metadata", embedNone},  // AWS EKS Pod Identity
	{pfx("fd00:ec2::254/128"), "metadata", embedNone}, // AWS IMDS
	{pfx("fd20:ce::254/128"), "metadata", embedNone},  // GCP metadata server
	{pfx("fe80::/10"), "link-local", embedNone},
	{pfx("fec0::/10"), "site-local", embedNone},
	{pfx("ff00::/8"), "multicast", embedNone},
}

var globalUnicast6 = pfx("2000::/3")

// classify returns the most specific special-purpose row containing a, or a zero row (class
// "") for globally reachable unicast. a must be unmapped and carry no zone.
func classify(a netip.Addr) special {
	var best special
	found := false
	for _, s := range specialRanges {
		if s.prefix.Contains(a) && (!found || s.prefix.Bits() > best.prefix.Bits()) {
			best, found = s, true
		}
	}
	if !found && a.Is6() && !globalUnicast6.Contains(a) {
		return special{prefix: netip.PrefixFrom(a, 128), class: "reserved"}
	}
	return best
}

// embeddedIPv4 returns the IPv4 addresses carried by a under e (none, one or two).
func embeddedIPv4(a netip.Addr, e embedding) []netip.Addr {
	b := a.As16()
	switch e {
	case embedNAT64, embedCompat, embedNAT64Local:
		return []netip.Addr{netip.AddrFrom4([4]byte(b[12:16]))}
	case embed6to4:
		return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))}
	case embedTeredo:
		server := netip.AddrFrom4([4]byte(b[4:8]))
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return []netip.Addr{server, client}
	}
	return nil
}
