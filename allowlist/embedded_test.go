package allowlist

import (
	"net/netip"
	"testing"
)

// Listing an IPv6 range that carries IPv4 in AllowPrivate opens the range, never the IPv4
// address carried in it: that is judged as itself, through CheckAddr and the dial hook alike.
func TestAllowPrivateEmbeddingRangesJudgeTheIPv4(t *testing.T) {
	prefixes, err := ParsePrefixes("64:ff9b::/96 64:ff9b:1::/48 2002::/16 2001::/32 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, Config{AllowPrivate: prefixes})
	tests := []struct {
		name, addr string
		want       Cause // CauseUnknown: allowed
	}{
		{"nat64 metadata", "64:ff9b::a9fe:a9fe", CauseMetadata},
		{"nat64 loopback", "64:ff9b::7f00:1", CauseLoopback},
		{"nat64 unlisted private", "64:ff9b::c0a8:101", CausePrivate},
		{"nat64 listed private", "64:ff9b::a00:1", CauseUnknown},
		{"nat64 public", "64:ff9b::808:808", CauseUnknown},
		{"local-use nat64 metadata", "64:ff9b:1::a9fe:a9fe", CauseMetadata},
		{"local-use nat64 loopback", "64:ff9b:1:ab::7f00:1", CauseLoopback},
		{"local-use nat64 public", "64:ff9b:1::808:808", CauseUnknown},
		{"6to4 metadata", "2002:a9fe:a9fe::1", CauseMetadata},
		{"6to4 loopback", "2002:7f00:1::1", CauseLoopback},
		{"6to4 listed private", "2002:a00:1::1", CauseUnknown},
		{"6to4 public", "2002:808:808::1", CauseUnknown},
		{"teredo client loopback", embedTeredoAddr(netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("127.0.0.1")).String(), CauseLoopback},
		{"teredo server metadata", embedTeredoAddr(netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("8.8.8.8")).String(), CauseMetadata},
		{"teredo public", embedTeredoAddr(netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("1.1.1.1")).String(), CauseUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := netip.AddrPortFrom(netip.MustParseAddr(tt.addr), 80)
			for via, err := range map[string]error{
				"CheckAddr": p.CheckAddr(ap),
				"Control":   p.Control("tcp", ap.String(), nil),
			} {
				var got Cause
				if e := asError(t, err); e != nil {
					got = e.Cause
				}
				if got != tt.want {
					t.Errorf("%s(%s) = %v (%v), want cause %v", via, ap, got, err, tt.want)
				}
			}
		})
	}
}

// Unlisted, local-use NAT64 stays refused whatever it carries, as before.
func TestLocalUseNAT64RefusedUnlessListed(t *testing.T) {
	p := mustPolicy(t, Config{})
	err := p.CheckAddr(netip.MustParseAddrPort("[64:ff9b:1::808:808]:443"))
	if e := asError(t, err); e == nil || e.Cause != CausePrivate {
		t.Errorf("CheckAddr = %v, want a private-address refusal", err)
	}
}
