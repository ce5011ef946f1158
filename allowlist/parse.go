package allowlist

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// ParsePatterns splits a comma- or whitespace-separated list (an environment variable such as
// CORSBRIDGE_ALLOW_ORIGINS or cors-anywhere's CORSANYWHERE_WHITELIST) into trimmed, non-empty
// entries. It never fails: validation happens in New.
func ParsePatterns(list string) []string {
	return strings.FieldsFunc(list, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// ParsePrefixes parses a list of CIDRs or bare IPs ("127.0.0.0/8, ::1") for
// Config.AllowPrivate. A bare IP is a single-address prefix; host bits are masked off
// ("10.1.2.3/8" is 10.0.0.0/8); IPv4-mapped prefixes become IPv4 prefixes, because the
// address policy always matches unmapped addresses. Zones are refused.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range ParsePatterns(list) {
		p, err := parsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("allowlist: bad CIDR %q: %w", s, err)
		}
		return normalPrefix(p)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("allowlist: bad IP %q: %w", s, err)
	}
	if a.Zone() != "" { // PrefixFrom would silently drop it
		return netip.Prefix{}, fmt.Errorf("allowlist: IP %q has a zone", s)
	}
	return normalPrefix(netip.PrefixFrom(a, a.BitLen()))
}

// normalPrefix masks host bits and unmaps IPv4-mapped prefixes so Contains on an unmapped
// address behaves as the operator meant.
func normalPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("allowlist: invalid prefix %q", p)
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("allowlist: prefix %q has a zone", p)
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("allowlist: prefix %q is wider than the IPv4-mapped range", p)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// ParsePorts parses "80,443" for Config.AllowPorts. The empty list means any port.
func ParsePorts(list string) ([]uint16, error) {
	var out []uint16
	for _, f := range ParsePatterns(list) {
		n, err := strconv.ParseUint(f, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("allowlist: bad port %q: want 1-65535", f)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}
