package allowlist

import (
	"net/netip"
	"strconv"
	"strings"
)

// Legacy IPv4 spellings. inet_aton, browsers (WHATWG URL "IPv4 parser") and many resolvers
// read 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 all as 127.0.0.1. If such a host reached
// a resolver as a "name", what it connects to would depend on the libc; so a host whose last
// label is numeric is either parsed here into the real address, which then faces the
// address policy ("target is a private address (loopback)"), or refused as malformed. It is
// never passed to DNS.

// endsInNumber reports whether the last label of name (no trailing dot) is an IPv4 number:
// all decimal digits, or "0x" followed by hex digits (possibly none), as in the WHATWG URL
// standard. name is lower-case ASCII.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if allDigits(last) {
		return true
	}
	if strings.HasPrefix(last, "0x") {
		for i := 2; i < len(last); i++ {
			if !isHex(last[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// parseLegacyIPv4 parses one to four parts, each decimal, octal (leading 0) or hex (0x); the
// last part fills the remaining bytes. It fails on anything else, including overflow. dotted
// reports that name is already the address's canonical dotted quad (four decimal parts without
// leading zeros), so a caller can keep it instead of formatting the address again.
func parseLegacyIPv4(name string) (a netip.Addr, dotted, ok bool) {
	n := strings.Count(name, ".") + 1
	if n > 4 {
		return netip.Addr{}, false, false
	}
	dotted = n == 4
	var v uint64
	i := 0
	for p := range strings.SplitSeq(name, ".") {
		num, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false, false
		}
		dotted = dotted && allDigits(p) && (p[0] != '0' || len(p) == 1)
		if i < n-1 {
			if num > 255 {
				return netip.Addr{}, false, false
			}
			v |= num << (8 * (3 - i))
			i++
			continue
		}
		if num >= 1<<(8*(5-n)) {
			return netip.Addr{}, false, false
		}
		v |= num
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), dotted, true
}

func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, true
	}
	for i := 0; i < len(s); i++ { // ParseUint alone would accept a sign or underscores
		if !isHex(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}
