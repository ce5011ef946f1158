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
	default:
		return "unknown"
	}
}

// Error is the only error type the package returns from request-time checks. Reason is short
// and safe to show to clients: it names the rule or the class of address ("loopback"), never
// a resolved address, interface or configuration detail, because a public proxy must not
// become an oracle for the network it runs in.
type Error struct {
	Kind   Kind
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func invalid(reason string) *Error   { return &Error{Kind: KindInvalid, Reason: reason} }
func forbidden(reason string) *Error { return &Error{Kind: KindTarget, Reason: reason} }
func refused(reason string) *Error   { return &Error{Kind: KindOrigin, Reason: reason} }
