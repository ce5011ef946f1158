package allowlist

import (
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Refusal rules (DenyTargets, TargetSet.MatchDeny for run-time blocks) must hold against every
// spelling of a path that some upstream serves as the same resource, while allow rules and
// key or token scopes stay exact (a looser allow rule would let more through). The spellings
// come from how common servers route:
//
//   - case: IIS, and anything on a case-insensitive file system, serves /ADMIN as /admin;
//   - trailing dots and spaces in a segment: Windows drops them, so /admin./ and /admin%20/
//     reach /admin/;
//   - percent-encoding, once or twice (IIS decoded twice), and IIS's %uXXXX;
//   - backslashes as separators (IIS), doubled or encoded slashes, dot segments;
//   - ;params, which Tomcat, Jetty and Spring drop before routing;
//   - compatibility forms (full-width letters), which Windows "best fit" maps to ASCII.
//
// looseKey folds all of them into one key; a refusal rule matches when the request's key
// falls under the rule's key. Over-matching is the intended failure mode of a deny rule.

// maxDecodes bounds repeated percent-decoding: two rounds cover double decoding, a third
// catches a server that decodes once more than that.
const maxDecodes = 3

// looseKey is the key of a path (already percent-decoded once, as url.URL.Path holds it).
func looseKey(decoded string) string {
	p := decoded
	for range maxDecodes {
		next, err := url.PathUnescape(decodeIISUnicode(p))
		if err != nil || next == p {
			break
		}
		p = next
	}
	p = strings.ToLower(norm.NFKC.String(p))
	p = strings.ReplaceAll(p, `\`, "/")
	var segs []string
	for seg := range strings.SplitSeq(p, "/") {
		seg, _, _ = strings.Cut(seg, ";")
		switch seg {
		case ".":
			continue
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			continue
		}
		if seg = strings.TrimRight(seg, ". \t"); seg != "" {
			segs = append(segs, seg)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// decodeIISUnicode turns IIS's %uXXXX escapes into UTF-8; other text is returned as is.
func decodeIISUnicode(s string) string {
	if !strings.Contains(s, "%u") && !strings.Contains(s, "%U") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+6 <= len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			if r, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(r))
				i += 5
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// matchRefusal reports whether a refusal rule matches: as matchPath does (an ambiguous path
// matches any path-scoped rule of its host), or by the loose key.
func (t targetPattern) matchRefusal(r *reqPath) bool {
	if t.matchPath(*r) != pathNoMatch {
		return true
	}
	k := r.looseKey()
	return k == t.loose || strings.HasPrefix(k, t.loose+"/") || t.loose == "/"
}

// looseKey computes the request's key once, on the first refusal rule that needs it.
func (r *reqPath) looseKey() string {
	if !r.looseDone {
		r.loose, r.looseDone = looseKey(r.decoded), true
	}
	return r.loose
}
