package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
)

// Kind classifies why a request could not be relayed; the server maps each
// to its error code.
type Kind int

const (
	// KindRefused: the SSRF guard refused the address dialled, or a redirect
	// hop failed Request.CheckHop. Err is that check's own error.
	KindRefused Kind = iota + 1
	KindBodyTooLarge
	KindRequestTimeout // the client stopped sending its request body
	KindResponseTooLarge
	KindUpstreamTimeout
	KindUpstreamUnreachable
	KindClientGone // nobody reads an answer; written as StatusClientClosed
	// KindBadRedirect: the upstream answered a redirect that cannot be
	// followed (ErrBadRedirect); the upstream's fault, not the client's.
	KindBadRedirect
	// KindBadRequestBody: the client's request body could not be decoded
	// (broken chunked framing); the client's fault, not a client gone.
	KindBadRequestBody
)

// Failure is a request that could not be relayed. Err is internal detail for
// the log, never for the client.
type Failure struct {
	Kind Kind
	Err  error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// StatusClientClosed is nginx's convention for "client closed the request",
// used only in logs and metrics.
const StatusClientClosed = 499

var (
	errResponseTooLarge = errors.New("upstream response larger than the configured limit")
	errBodyTooLarge     = errors.New("request body larger than the configured limit")
)

// classify maps what ReverseProxy reported to a Kind. stalled: the client's
// body timed out (checked first, since the stalled read also cancels the
// request's context); clientDone: the client's request context ended.
func classify(err error, stalled, clientDone bool) *Failure {
	var tooBig *http.MaxBytesError
	var netErr net.Error
	kind := KindUpstreamUnreachable
	switch {
	case stalled, errors.Is(err, errClientStalled):
		kind = KindRequestTimeout
	case errors.Is(err, ErrBadRedirect):
		kind = KindBadRedirect
	case isRefusal(err):
		kind = KindRefused
	case errors.As(err, &tooBig):
		kind = KindBodyTooLarge
	case errors.Is(err, errResponseTooLarge):
		kind = KindResponseTooLarge
	case errors.Is(err, context.Canceled) && clientDone:
		kind = KindClientGone
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		kind = KindUpstreamTimeout
	}
	return &Failure{Kind: kind, Err: err}
}

// bodyReadFailure tells a client that went away while sending its body
// (the connection closed or reset mid-body) from one whose body net/http
// could not decode, such as a malformed chunk: the first is nobody to answer,
// the second deserves a 400 it can read.
func bodyReadFailure(err error) Kind {
	var netErr net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed),
		errors.As(err, &netErr), errors.Is(err, context.Canceled):
		return KindClientGone
	}
	return KindBadRequestBody
}

// refused wraps the error of a check the proxy runs on the server's behalf
// (the dialer's Control hook, Request.CheckHop), so it is told apart from a
// network failure however deep the transport buries it.
type refused struct{ err error }

func (r *refused) Error() string { return r.err.Error() }
func (r *refused) Unwrap() error { return r.err }

func isRefusal(err error) bool {
	var r *refused
	return errors.As(err, &r)
}
