package proxy

import (
	"net/http"
	"net/url"
)

// Secrets are upstream credentials the server has the proxy send on the
// page's behalf (access.Injection): set on the outgoing request, on every
// redirect hop that stays where they may go, and taken out of everything
// relayed back. The forwarder does not know what they are, only where they
// may be sent and how to redact them.
type Secrets interface {
	// Apply sets them on a request about to be sent; it may write req.URL.
	Apply(req *http.Request)
	// Carries reports whether a request to u may carry them. A redirect hop
	// that may not is not followed: the 3xx goes back to the client.
	Carries(u *url.URL) bool
	// RedactHeader takes them out of upstream headers and trailers.
	RedactHeader(h http.Header)
	// RedactURL shows a URL without them (X-Final-Url, a Location).
	RedactURL(s string) string
	// Redact takes their values out of any text (an error for the log).
	Redact(s string) string
}
