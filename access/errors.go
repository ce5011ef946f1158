package access

// Code is the error-contract code of a refusal; the server maps each to its
// status (401 key_required, 403 for the others, 503 unavailable).
type Code string

const (
	CodeKeyRequired   Code = "key_required"   // CORSBRIDGE_REQUIRE_KEY and no key sent
	CodeKeyForbidden  Code = "key_forbidden"  // a key or token that is malformed, unknown, revoked, expired or out of scope
	CodeOriginBlocked Code = "origin_blocked" // the origin is blocked at run time
	CodeTargetBlocked Code = "target_blocked" // the target is blocked at run time
	CodeUnavailable   Code = "unavailable"    // a key was sent but the key store has never been read
)

// Error is a refusal. Reason is short and safe to show to the client: it
// never contains the key, the token or the store's own errors.
type Error struct {
	Code   Code
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// The refusals are fixed values, so refusing costs no allocation.
var (
	errKeyRequired   = &Error{CodeKeyRequired, "this proxy requires a key: send it in the X-Corsbridge-Key header or the corsbridge_key query parameter"}
	errKeyMalformed  = &Error{CodeKeyForbidden, "the key is malformed"}
	errKeyUnknown    = &Error{CodeKeyForbidden, "the key is unknown or revoked"}
	errKeyExpired    = &Error{CodeKeyForbidden, "the key has expired"}
	errKeyOrigin     = &Error{CodeKeyForbidden, "the key is not valid from this origin"}
	errKeyTarget     = &Error{CodeKeyForbidden, "the key is not valid for this target"}
	errTokenInvalid  = &Error{CodeKeyForbidden, "the token is invalid"}
	errTokenExpired  = &Error{CodeKeyForbidden, "the token has expired"}
	errTokenOrigin   = &Error{CodeKeyForbidden, "the token is not valid from this origin"}
	errTokenTarget   = &Error{CodeKeyForbidden, "the token is not valid for this target"}
	errOriginBlocked = &Error{CodeOriginBlocked, "this origin is blocked on this proxy"}
	errTargetBlocked = &Error{CodeTargetBlocked, "this target is blocked on this proxy"}
	errUnavailable   = &Error{CodeUnavailable, "keys are temporarily unavailable; retry shortly"}
)
