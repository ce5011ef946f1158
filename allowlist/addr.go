package allowlist

import (
	"net/netip"
	"strconv"
)

// CheckAddr applies the address policy to one concrete address the proxy is about to
// connect to. It is the heart of the SSRF guard and Control calls it for every dial, after
// DNS, so a name that resolves (or re-resolves, DNS rebinding) to 10.0.0.1 is caught here
// whatever the URL looked like. In order:
//
//  1. Zoned addresses (fe80::1%eth0) are refused: a zone only makes sense on a local link.
//  2. IPv4-mapped IPv6 is unmapped, so ::ffff:127.0.0.1 is judged as 127.0.0.1.
//  3. The port must be non-zero and, when Config.AllowPorts is set, listed.
//  4. The proxy's own listening addresses are refused even if AllowPrivate covers them, so
//     the proxy cannot be made to call itself in a loop.
//  5. IPv6 ranges that carry IPv4 (NAT64, 6to4, Teredo) are judged first by the IPv4 they
//     carry, as that address itself: refused unless public or inside AllowPrivate, even when
//     AllowPrivate lists the IPv6 range.
//  6. An address inside Config.AllowPrivate is allowed: the operator's explicit exception.
//  7. Anything not globally reachable unicast (see specialRanges) is refused with its class;
//     the IPv6 ranges of step 5 pass when what they carry passed.
func (p *Policy) CheckAddr(ap netip.AddrPort) error {
	return p.checkAddr(ap, "target resolves to")
}

// checkAddr is CheckAddr with the lead of the reason chosen by the caller: CheckTarget says
// "target is" for IP literals, the dial hook "target resolves to".
func (p *Policy) checkAddr(ap netip.AddrPort, lead string) error {
	a := ap.Addr()
	if !a.IsValid() {
		return forbidden(CauseNetwork, "refused to connect to an unrecognised address")
	}
	if a.Zone() != "" {
		return forbidden(CausePrivate, lead+" a private address (zoned)")
	}
	a = a.Unmap()
	port := ap.Port()
	if !p.portAllowed(port) {
		return forbidden(CausePort, "target port "+strconv.Itoa(int(port))+" is not allowed")
	}
	s := classify(a)
	embedded := embeddedIPv4(a, s.embed)
	if p.isSelf(a, port) {
		return forbidden(CauseSelf, "target is this proxy itself")
	}
	for _, e := range embedded {
		if p.isSelf(e, port) {
			return forbidden(CauseSelf, "target is this proxy itself")
		}
	}
	if s.embed == embedNAT64Local && !p.privateAllowed(a) {
		// Not routed at all: refused as itself unless listed, whatever it carries.
		return forbidden(CausePrivate, lead+" a private address ("+s.class+")")
	}
	// An embedded IPv4 address is judged as itself before the outer prefix is: listing
	// 64:ff9b::/96 or 2002::/16 in AllowPrivate opens a NAT64 gateway or a 6to4 relay, not
	// the metadata service or the loopback address the gateway would translate to.
	for _, e := range embedded {
		if es := classify(e); es.class != "" && !p.privateAllowed(e) {
			return forbidden(classCause(es.class), lead+" a private address ("+es.class+" via "+s.class+")")
		}
	}
	if p.privateAllowed(a) || s.class == "" {
		return nil
	}
	if !s.embed.routable() {
		return forbidden(classCause(s.class), lead+" a private address ("+s.class+")")
	}
	return nil
}

// classCause is the Cause of refusing an address of a special-purpose class.
func classCause(class string) Cause {
	switch class {
	case "loopback":
		return CauseLoopback
	case "metadata":
		return CauseMetadata
	}
	return CausePrivate
}

// portAllowed: port 0 is never a destination. Without AllowPorts any port is allowed except
// the ones browsers themselves refuse to fetch from (the Fetch standard's bad ports: SMTP,
// IRC, LDAP, ...) and two plain-text protocols that tolerate HTTP-shaped input: a page must
// not be able to speak to them from the proxy's address when it could not directly. An
// operator who lists a port in AllowPorts allows it.
func (p *Policy) portAllowed(port uint16) bool {
	if port == 0 {
		return false
	}
	if len(p.ports) == 0 {
		return !isBadPort(port)
	}
	_, ok := p.ports[port]
	return ok
}

// privateAllowed: the operator's AllowPrivate exceptions. A cloud metadata address is only
// allowed when listed exactly (a /32 or /128): opening a whole range such as 100.64.0.0/10
// for an internal network must not open 100.100.100.200, nor 169.254.0.0/16 the instance
// metadata service.
func (p *Policy) privateAllowed(a netip.Addr) bool {
	metadata := classify(a).class == "metadata"
	for _, pr := range p.allowPrivate {
		if !pr.Contains(a) {
			continue
		}
		if !metadata || pr.IsSingleIP() {
			return true
		}
	}
	return false
}

// isSelf reports whether a:port is one of the proxy's own listeners. A listener on an
// unspecified address (0.0.0.0:8080, [::]:8080) answers on that port on every local address,
// so the port is refused on loopback, on unspecified addresses (connecting to 0.0.0.0 reaches
// the local host) and on every address the server passed in Config.SelfAddrs: the server is
// expected to expand an unspecified listen address into its interface addresses.
func (p *Policy) isSelf(a netip.Addr, port uint16) bool {
	if _, ok := p.selfExact[netip.AddrPortFrom(a, port)]; ok {
		return true
	}
	if _, ok := p.selfAnyPort[port]; !ok {
		return false
	}
	if a.IsLoopback() || a.IsUnspecified() {
		return true
	}
	_, ok := p.selfHosts[a]
	return ok
}
