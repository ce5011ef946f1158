package allowlist

import "strings"

// Host names that are never public. A resolver may answer them from /etc/hosts, mDNS, a
// corporate DNS view or a search domain, all of which point inside the network the proxy runs
// in; refusing them before DNS gives a clear error and does not depend on what the local
// resolver happens to say. The dial hook would catch their private addresses anyway.
//
// They are refused unless the operator both allows private addresses (AllowPrivate is not
// empty) and names the host explicitly in AllowTargets (any pattern but "*" that matches it,
// for example "metrics.internal" or "*.corp"). The address guard still applies to what the
// name resolves to, so the resolved address must also be inside AllowPrivate.
var localSuffixes = []string{
	"local",       // mDNS (RFC 6762)
	"localhost",   // RFC 6761, covers *.localhost
	"internal",    // ICANN private-use TLD; also metadata.google.internal
	"localdomain", // common /etc/hosts convention
	"home.arpa",   // RFC 8375 home networks
	// De facto private TLDs from ICANN's name-collision work.
	"lan", "intranet", "corp", "home", "private",
}

// localName returns why name (canonical, not an IP literal) is never public, or "".
func localName(name string) string {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return "localhost"
	}
	if !strings.Contains(name, ".") {
		return "single-label name"
	}
	for _, s := range localSuffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return "local name"
		}
	}
	return ""
}
