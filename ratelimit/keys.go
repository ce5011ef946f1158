package ratelimit

import (
	"net/http"
	"net/netip"
	"strings"
)

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
func clientKey(a netip.Addr) string { return string(appendClientKey(nil, a)) }

// appendClientKey appends a's group, as clientKey spells it, to dst.
func appendClientKey(dst []byte, a netip.Addr) []byte {
	switch {
	case a.Is4():
		return a.AppendTo(dst)
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.AppendTo(dst)
	default:
		return append(dst, "unknown"...)
	}
}
