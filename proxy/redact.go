package proxy

import (
	"net/url"
	"strconv"
	"strings"
)

// redactURLs rewrites every URL inside err to its scheme and host before err
// reaches Outcome.Err and so the log. http.Client reports a redirect hop's
// failure as a *url.Error holding the hop's whole URL, and url.Parse quotes
// the text it failed on: paths and queries may carry keys (api_key=...),
// userinfo is a password. Each *url.Error in the chain is rewritten in place
// (they are the request's own, made for it by the client and the parser);
// a wrapper that wrote its message before (fmt.Errorf) gets the same URLs
// replaced in its text.
func redactURLs(err error) error {
	var found []string // the URLs as they were, to find in written messages
	pending := []error{err}
	for len(pending) > 0 {
		e := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		if ue, ok := e.(*url.Error); ok && ue.URL != redactURL(ue.URL) {
			found = append(found, ue.URL)
			ue.URL = redactURL(ue.URL)
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			pending = append(pending, u.Unwrap())
		case interface{ Unwrap() []error }:
			pending = append(pending, u.Unwrap()...)
		}
	}
	if len(found) == 0 {
		return err
	}
	msg := err.Error()
	for _, u := range found {
		quoted := strconv.Quote(u) // how url.Error writes it
		msg = strings.ReplaceAll(msg, quoted[1:len(quoted)-1], redactURL(u))
		msg = strings.ReplaceAll(msg, u, redactURL(u))
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error whose message had URLs replaced.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactURL keeps what the request log may show of a URL, its scheme and
// host (README: target_host, never the path or query); "/..." marks that
// something followed. Text that is not an absolute URL keeps nothing.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !isScheme(scheme) {
		return "[redacted]"
	}
	host, tail := rest, ""
	if end := strings.IndexAny(rest, "/?#\\"); end >= 0 {
		host, tail = rest[:end], rest[end:]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	if tail != "" && tail != "/" {
		return scheme + "://" + host + "/..."
	}
	return scheme + "://" + host + tail
}

// isScheme: RFC 3986's scheme grammar, so text before a "://" deep in a
// path or query is not mistaken for one.
func isScheme(s string) bool {
	for i, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
