package allowlist

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Internationalised host names are mapped as browsers map them, so the proxy reaches the
// host the page's own URL parser would have reached: the WHATWG URL standard's "domain to
// ASCII", which is UTS #46 ToASCII (case folding, NFKC-style compatibility mapping, NFC,
// deletion of ignorable code points, punycode) with these flags. golang.org/x/net/idna
// implements UTS #46; the profile below sets it to the standard's flags:
//
//	CheckHyphens=false        (r3---sn-abc.example is a real host)
//	CheckBidi=true            (BidiRule)
//	CheckJoiners=true         (MapForLookup sets it)
//	UseSTD3ASCIIRules=false   (StrictDomainName(false); our ASCII rules apply afterwards)
//	Transitional=false        (ß stays ß: xn--zca)
//	VerifyDnsLength=false     (our ASCII rules bound labels and names afterwards)
//
// The old hand-written tables refused characters that could disguise a host (full-width
// digits, letterlike symbols, ligatures, format characters) because without real Unicode
// mapping the name we checked could differ from the one a browser or resolver reads. With
// the browser's own mapping that difference is gone: "１２７。０。０。１" maps to 127.0.0.1 and
// "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ" to localhost, and every check (IPv4 spellings, never-public names, rules,
// the address policy) runs on the mapped name, so they are judged as what they are. The only
// refusals kept on top of the standard are the ASCII rules of checkLabel, which apply to
// every host: a label must be [a-z0-9_-], 1 to 63 bytes, and not start or end with '-'.
// Browsers accept a few more ASCII characters and longer labels, but DNS, Go's resolver and
// many upstreams do not, and no public host needs them; refusing is the safe answer.
//
// The profile is immutable and safe for concurrent use.
var whatwgIDNA = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

// needsIDNA reports whether a host (without port) must go through domain to ASCII: it has
// non-ASCII characters, or an ASCII label that claims to be punycode ("xn--", any case), which
// must decode to a valid label. Plain ASCII names skip it: for them the mapping is lower-casing.
func needsIDNA(h string) bool {
	for i := 0; i < len(h); i++ {
		if h[i] >= utf8.RuneSelf {
			return true
		}
		if (i == 0 || h[i-1] == '.') && len(h)-i >= 4 && strings.EqualFold(h[i:i+4], "xn--") {
			return true
		}
	}
	return false
}

// toASCIIHost maps a host through the WHATWG profile. The result still has to pass the ASCII
// host rules.
func toASCIIHost(s string) (string, *Error) {
	if !utf8.ValidString(s) {
		return "", invalid("host is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > maxRawHost {
		return "", invalid("host name is empty or too long")
	}
	a, err := whatwgIDNA.ToASCII(s)
	if err != nil {
		return "", invalid("host is not a valid internationalised domain name")
	}
	return a, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
