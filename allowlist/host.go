package allowlist

import (
	"net/netip"
	"strconv"
	"strings"
)

// Host canonicalisation shared by targets, target patterns and origins. The canonical form
// is what rules are matched against and, for targets, what is written back into URL.Host and
// handed to the resolver, so "what we checked" and "what we dial" are the same string:
//
//   - names: mapped as browsers map them (UTS #46, see idna.go), so Unicode labels are in
//     punycode; lower-case ASCII, one trailing dot removed, labels of [a-z0-9_-] not
//     starting or ending with '-', 1..63 bytes, at most 253 bytes in all;
//   - IPv4 in any legacy spelling: the dotted quad (see ipv4.go);
//   - IPv6: bracketed, in netip's canonical form; zones are refused.
//
// Anything else (percent signs, backslashes, spaces, control characters, '@', '*', empty
// labels) is refused rather than repaired: an odd host is a sign of a parser differential
// attack, and there is no legitimate client that needs one.

// maxRawHost bounds the work done on a host before it is known to be a name: 253 bytes of
// name, each byte written as a three-byte full-width form at most, plus a trailing dot.
const maxRawHost = 253*3 + 3

type canonHost struct {
	name string     // as written back into URL.Host, without port
	addr netip.Addr // valid when the host is an IP literal
}

// splitHostPort splits an authority without userinfo into host and port. hasPort is true
// when a colon was present, even with an empty port.
func splitHostPort(hp string) (host, port string, hasPort bool, err *Error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", false, invalid("host has an unterminated IPv6 literal")
		}
		host, rest := hp[:end+1], hp[end+1:]
		if rest == "" {
			return host, "", false, nil
		}
		if rest[0] != ':' {
			return "", "", false, invalid("host has text after the IPv6 literal")
		}
		return host, rest[1:], true, nil
	}
	i := strings.IndexByte(hp, ':')
	if i < 0 {
		return hp, "", false, nil
	}
	if strings.IndexByte(hp[i+1:], ':') >= 0 {
		return "", "", false, invalid("IPv6 literals must be in brackets")
	}
	return hp[:i], hp[i+1:], true, nil
}

// canonicalHost canonicalises a host without port.
func canonicalHost(h string) (canonHost, *Error) {
	if h == "" {
		return canonHost{}, invalid("host is empty")
	}
	if len(h) > maxRawHost {
		return canonHost{}, invalid("host name is empty or too long")
	}
	if h[0] == '[' {
		return canonicalIPv6(h)
	}
	if err := rawHostChars(h); err != nil {
		return canonHost{}, err
	}
	if needsIDNA(h) {
		var err *Error
		if h, err = toASCIIHost(h); err != nil {
			return canonHost{}, err
		}
	}
	h = strings.ToLower(h)
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return canonHost{}, invalid("host name is empty or too long")
	}
	for l := range strings.SplitSeq(h, ".") {
		if err := checkLabel(l); err != nil {
			return canonHost{}, err
		}
	}
	if endsInNumber(h) {
		a, dotted, ok := parseLegacyIPv4(h)
		if !ok {
			return canonHost{}, invalid("host is a malformed IPv4 address")
		}
		if dotted { // already the canonical spelling
			return canonHost{name: h, addr: a}, nil
		}
		return canonHost{name: a.String(), addr: a}, nil
	}
	return canonHost{name: h}, nil
}

func canonicalIPv6(h string) (canonHost, *Error) {
	if len(h) < 2 || h[len(h)-1] != ']' {
		return canonHost{}, invalid("host has a malformed IPv6 literal")
	}
	inner := h[1 : len(h)-1]
	if strings.IndexByte(inner, '%') >= 0 {
		return canonHost{}, invalid("IPv6 zones are not allowed")
	}
	a, err := netip.ParseAddr(inner)
	if err != nil || !a.Is6() {
		return canonHost{}, invalid("host has a malformed IPv6 literal")
	}
	return canonHost{name: "[" + a.String() + "]", addr: a}, nil
}

// rawHostChars gives the specific reason for the characters most used in parser
// differential attacks; checkLabel catches everything else after mapping.
func rawHostChars(h string) *Error {
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c < 0x20 || c == 0x7f:
			return invalid("host contains a control character")
		case c == ' ':
			return invalid("host contains a space")
		case c == '\\':
			return invalid("host contains a backslash")
		case c == '%':
			return invalid("host is percent-encoded")
		case c == '@':
			return invalid("host contains '@'")
		}
	}
	return nil
}

func checkLabel(l string) *Error {
	if l == "" || len(l) > 63 {
		return invalid("host has an empty or over-long label")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalid("host contains a character that is not allowed")
		}
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		// Go's resolver refuses such names anyway; "1.2.3.-4" must not look like a name.
		return invalid("host has a label starting or ending with '-'")
	}
	return nil
}

// defaultPort is the port a scheme implies; 0 when it has none.
func defaultPort(scheme string) uint16 {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

// canonicalPort parses an explicit port (decimal digits only, 1..65535). The canonical text
// is "" for the scheme's default port, so https://a.com:443 and https://a.com are one thing.
func canonicalPort(scheme, port string, hasPort bool) (string, uint16, *Error) {
	def := defaultPort(scheme)
	if !hasPort || port == "" {
		return "", def, nil // 0 for schemes without a default, such as chrome-extension origins
	}
	if !allDigits(port) {
		return "", 0, invalid("port is not a number")
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", 0, invalid("port is out of range")
	}
	if uint16(n) == def {
		return "", def, nil
	}
	if port[0] != '0' { // already canonical
		return port, uint16(n), nil
	}
	return strconv.FormatUint(n, 10), uint16(n), nil
}
