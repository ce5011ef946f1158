package ratelimit

import (
	"fmt"
	"github.com/corsbridge/corsbridge/rate"
	"strings"
	"time"
)

// Defaults for CORSBRIDGE_RATE_LIMIT and CORSBRIDGE_CLIENT_RATE_LIMIT, in the
// form ParseLimit accepts.
//
// 600 requests a minute per origin is 10 a second sustained for every page of
// one site that uses the proxy, with the sliding window absorbing bursts. The
// per-client limit is higher on purpose: one IPv4 address may be a carrier NAT
// shared by thousands of users, and its job is only to cap a single
// non-browser abuser (who can forge any Origin) at about 20 requests a second.
const (
	DefaultOriginLimit = "600/1m"
	DefaultClientLimit = "1200/1m"
)

// Bounds of a Limit, from package rate.
const (
	MaxRequests = rate.MaxRequests
	MinWindow   = rate.MinWindow
	MaxWindow   = rate.MaxWindow
)

// Limit is a number of requests per window (package rate); the zero Limit
// is off.
type Limit = rate.Limit

// ParseLimit reads a limit as written in CORSBRIDGE_RATE_LIMIT and
// CORSBRIDGE_CLIENT_RATE_LIMIT; see rate.Parse.
func ParseLimit(s string) (Limit, error) { return rate.Parse(s) }

// parseDigits reads an unsigned decimal of at most max, ASCII digits only.
func parseDigits(s string, max int) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, v <= max
}

// CorsAnywhere is what cors-anywhere's CORSANYWHERE_RATELIMIT says.
type CorsAnywhere struct {
	// Origin is the per-origin limit; off when Only is set.
	Origin Limit
	// Exempt are the listed hosts, in the form Config.Exempt takes.
	Exempt []string
	// Only: a max of 0, cors-anywhere's recipe for "only these origins".
	// Listed origins are not limited and every other origin (and a request
	// without one) is refused, which is an origin allowlist: the caller
	// gives allowlist.NewOriginKeySet(Exempt) to the origin policy.
	Only bool
}

// ParseCorsAnywhere reads cors-anywhere's CORSANYWHERE_RATELIMIT, accepted as
// an alias of CORSBRIDGE_RATE_LIMIT plus CORSBRIDGE_RATE_LIMIT_EXEMPT:
//
//	"<max requests> <period in minutes> [exempt host or /regex/ ...]"
//	"50 3 my.example.com /(.*\.)?friendly\.example$/"
//	"0 1 /(.*\.)?example\.com/"      only example.com and its subdomains
//
// It returns the per-origin limit (50/3m) and the exempt entries as given, in
// the form Config.Exempt takes. As in cors-anywhere, a host matches the
// Origin without its scheme (the port only when the Origin carries one), a
// /regex/ must match that whole host, case-insensitively; regexes use Go's
// RE2 syntax, so look-around and back-references are errors. An empty string
// means off, as it does in cors-anywhere. A max of 0 sets Only, and then at
// least one host must be listed: with none, nothing could use the proxy.
func ParseCorsAnywhere(s string) (CorsAnywhere, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return CorsAnywhere{}, nil
	}
	bad := func(why string) (CorsAnywhere, error) {
		return CorsAnywhere{}, fmt.Errorf("ratelimit: invalid CORSANYWHERE_RATELIMIT %q: %s (want \"<max> <minutes> [exempt hosts or /regex/ ...]\")", s, why)
	}
	if len(f) < 2 {
		return bad("missing the period in minutes")
	}
	reqs, ok := parseDigits(f[0], MaxRequests)
	if !ok {
		return bad(fmt.Sprintf("max requests must be a whole number up to %d", MaxRequests))
	}
	mins, ok := parseDigits(f[1], int(MaxWindow/time.Minute))
	if !ok || mins == 0 {
		return bad(fmt.Sprintf("period must be a whole number of minutes from 1 to %d", int(MaxWindow/time.Minute)))
	}
	exempt := f[2:] // the caller compiles them (allowlist.NewOriginKeySet)
	if len(exempt) == 0 {
		exempt = nil
	}
	if reqs == 0 {
		if exempt == nil {
			return bad("a max of 0 serves only the hosts listed after the period, and none is listed")
		}
		return CorsAnywhere{Exempt: exempt, Only: true}, nil
	}
	return CorsAnywhere{Origin: Limit{Requests: reqs, Window: time.Duration(mins) * time.Minute}, Exempt: exempt}, nil
}
