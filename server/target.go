package server

import (
	"errors"
	"net/url"

	"github.com/corsbridge/corsbridge/allowlist"
)

// targetError says why a request path cannot be proxied, with the code the
// client sees: not_found for things that are plainly not targets (favicon.ico)
// and invalid_target for attempts that are malformed.
type targetError struct {
	code    errorCode
	message string
}

func (e *targetError) Error() string { return e.message }

var errNotATarget = &targetError{
	code:    codeNotFound,
	message: "no such page; to proxy a URL, request /https://host/path",
}

// parseTarget is allowlist.ParseTarget with its refusal turned into the
// error contract's code.
func parseTarget(requestURI string) (*url.URL, error) {
	u, err := allowlist.ParseTarget(requestURI)
	if err == nil {
		return u, nil
	}
	var ae *allowlist.Error
	if !errors.As(err, &ae) {
		return nil, &targetError{code: codeInvalidTarget, message: "invalid target"}
	}
	if ae.Kind == allowlist.KindNotATarget {
		return nil, errNotATarget
	}
	return nil, &targetError{code: codeInvalidTarget, message: ae.Reason}
}
