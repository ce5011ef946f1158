package allowlist

import (
	"net/netip"
	"syscall"
)

// Control is the SSRF boundary. Install it as the Control hook of the net.Dialer behind the
// proxy's own http.Transport (with Proxy: nil, never http.DefaultTransport):
//
//	d := &net.Dialer{Control: policy.Control}
//	t := &http.Transport{Proxy: nil, DialContext: d.DialContext}
//
// The hook runs after DNS resolution and before connect(2), once per address tried (Happy
// Eyeballs tries several), for every redirect hop and every new pooled connection. It
// therefore sees the exact IP and port, which makes DNS rebinding, short-TTL tricks and
// redirects to http://169.254.169.254/ harmless however the URL was spelled. CheckTarget
// only exists to fail earlier with a clearer message.
//
// Only TCP is dialled by the proxy, so other networks are refused. An address that does not
// parse as ip:port is refused rather than guessed at. The RawConn is not used (Control may be
// called with nil), so the check is a pure function of network and address.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return forbidden(CauseNetwork, "refused to connect over "+safeNetwork(network))
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return forbidden(CauseNetwork, "refused to connect to an unrecognised address")
	}
	return p.CheckAddr(ap)
}

// safeNetwork keeps the refusal message short and free of arbitrary text.
func safeNetwork(network string) string {
	switch network {
	case "udp", "udp4", "udp6", "unix", "unixgram", "unixpacket", "ip", "ip4", "ip6":
		return network
	}
	return "this network"
}
