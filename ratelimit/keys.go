package ratelimit

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// OriginKey is the per-origin counter key of an Origin header value, following
// cors-anywhere: the origin without its scheme, lower-cased, with the port only
// when it is not the scheme's default, and without a trailing dot:
//
//	"https://App.Example.com"     -> "app.example.com"
//	"https://app.example.com:443" -> "app.example.com"
//	"http://localhost:8080"       -> "localhost:8080"
//	"https://[2001:DB8::1]:8443"  -> "[2001:db8::1]:8443"
//	"app.example.com"             -> "app.example.com" (a bare host, as in config)
//	"null"                        -> "null" (sandboxed frames, file: pages share one key)
//
// A value that is not a serialised origin or a bare host[:port] (paths,
// userinfo, spaces, non-ASCII, bad ports) gives "". A trailing "/" is
// tolerated for configuration written as a URL. OriginKey is idempotent.
func OriginKey(origin string) string {
	s := strings.TrimSpace(origin)
	if s == "" {
		return ""
	}
	if strings.EqualFold(s, "null") {
		return "null"
	}
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme = strings.ToLower(s[:i])
		if !validScheme(scheme) {
			return ""
		}
		s = s[i+3:]
	}
	s = strings.TrimSuffix(s, "/")

	host, port, ok := splitHostPort(s)
	if !ok {
		return ""
	}
	if port != "" {
		p, ok := parseDigits(port, 65535)
		if !ok || p == 0 {
			return ""
		}
		switch {
		case p == 443 && (scheme == "https" || scheme == "wss"),
			p == 80 && (scheme == "http" || scheme == "ws"):
			port = ""
		default:
			port = strconv.Itoa(p)
		}
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" and
// normalises the host; ok is false when the host is not a valid DNS name,
// IPv4 or bracketed IPv6 literal.
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false
		}
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "", false
			}
			port = rest[1:]
			if port == "" {
				return "", "", false
			}
		}
		return "[" + a.String() + "]", port, true
	}
	host = s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if port == "" {
			return "", "", false
		}
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !validHostname(host) {
		return "", "", false
	}
	return host, port, true
}

// validHostname accepts DNS names (LDH labels, '_' tolerated) and IPv4
// literals, already lower-cased: at most 253 bytes, labels of 1 to 63.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0
}

// validScheme accepts RFC 3986 scheme names, already lower-cased.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// ClientIP is the address a request is counted against per client.
//
// It is the TCP peer (r.RemoteAddr) unless trustedHeader names the one header
// that a trusted front proxy sets to the client's address (Fly-Client-IP on
// Fly.io, CF-Connecting-IP behind Cloudflare): then that header is used when it
// holds exactly one valid IP address, and the peer otherwise. Only configure a
// header your platform overwrites on every request; a client can send any
// header itself. X-Forwarded-For is never read: its leftmost entries are
// written by the client, so trusting it lets anyone pick their own bucket
// (Config.Validate refuses it as trustedHeader).
//
// IPv4-mapped IPv6 addresses are unmapped and zones dropped. The zero Addr is
// returned when neither source holds an address (a unix socket peer).
func ClientIP(r *http.Request, trustedHeader string) netip.Addr {
	if trustedHeader != "" {
		if v := r.Header.Values(trustedHeader); len(v) == 1 {
			if a, err := netip.ParseAddr(strings.TrimSpace(v[0])); err == nil {
				return a.Unmap().WithZone("")
			}
		}
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// clientKey groups client addresses: an IPv4 address is its own group, an
// IPv6 address counts for its /64 (one subscriber's LAN: rotating through the
// 2^64 addresses a host may use must not escape the limit).
func clientKey(a netip.Addr) string {
	switch {
	case a.Is4():
		return a.String()
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	default:
		return "unknown"
	}
}
