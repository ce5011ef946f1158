package allowlist

// Kind says which part of the error contract a refusal belongs to. The server maps it to a
// status and code; the allowlist package never writes HTTP itself.
type Kind int

const (
	// KindInvalid: the URL cannot be a target at all (400 invalid_target).
	KindInvalid Kind = iota + 1
	// KindTarget: a well-formed target the policy refuses: scheme, port, host rule or a
	// non-public address (403 target_forbidden).
	KindTarget
	// KindOrigin: the requesting origin is denied or not allowed (403 origin_forbidden).
	KindOrigin
	// KindNotATarget: a request path that is plainly not a target, such as /favicon.ico
	// (404 not_found); only ParseTarget returns it.
	KindNotATarget
)

// String returns the error-contract code for the kind.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid_target"
	case KindTarget:
		return "target_forbidden"
	case KindOrigin:
		return "origin_forbidden"
	case KindNotATarget:
		return "not_found"
	default:
		return "unknown"
	}
}

// Cause is the rule behind a refusal. Callers that count or route refusals (metrics, the
// not-found page) switch on it, so Reason stays free to be reworded.
type Cause int

const (
	CauseUnknown Cause = iota
	// CauseMalformed: the text cannot be a target, or a host, port or pattern is malformed.
	CauseMalformed
	// CauseScheme: a scheme other than http and https.
	CauseScheme
	// CausePort: a port that is not allowed.
	CausePort
	// CauseLoopback: a loopback address, or one embedded in IPv6.
	CauseLoopback
	// CauseMetadata: a cloud metadata address, or one embedded in IPv6.
	CauseMetadata
	// CausePrivate: any other address that is not globally reachable unicast.
	CausePrivate
	// CauseSelf: one of the proxy's own listening addresses.
	CauseSelf
	// CauseNetwork: a network other than TCP, or an address that does not parse.
	CauseNetwork
	// CauseLocalName: a host name that is never public (localhost, *.internal, single label).
	CauseLocalName
	// CauseTargetDenied: a DenyTargets rule matched.
	CauseTargetDenied
	// CauseTargetNotAllowed: AllowTargets is set and no rule matched.
	CauseTargetNotAllowed
	// CauseOriginMissing: an origin allowlist is set and the request has no Origin.
	CauseOriginMissing
	// CauseOriginNull: the opaque origin "null" is not allowed or is denied.
	CauseOriginNull
	// CauseOriginMalformed: the Origin header is not an origin.
	CauseOriginMalformed
	// CauseOriginDenied: a DenyOrigins rule matched.
	CauseOriginDenied
	// CauseOriginNotAllowed: AllowOrigins is set and no rule matched.
	CauseOriginNotAllowed
)

// Error is the only error type the package returns from request-time checks. Reason is short
// and safe to show to clients: it names the rule or the class of address ("loopback"), never
// a resolved address, interface or configuration detail, because a public proxy must not
// become an oracle for the network it runs in. Cause is the same rule as a value.
type Error struct {
	Kind   Kind
	Cause  Cause
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func invalid(reason string) *Error {
	return &Error{Kind: KindInvalid, Cause: CauseMalformed, Reason: reason}
}

func forbidden(cause Cause, reason string) *Error {
	return &Error{Kind: KindTarget, Cause: cause, Reason: reason}
}

func refused(cause Cause, reason string) *Error {
	return &Error{Kind: KindOrigin, Cause: cause, Reason: reason}
}
