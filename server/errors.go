package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// errorCode is the stable, documented identifier of an error the proxy itself
// generates. Clients switch on it; the message is for humans and may change.
type errorCode string

const (
	codeInvalidTarget       errorCode = "invalid_target"
	codeHeaderRequired      errorCode = "header_required"
	codeNotFound            errorCode = "not_found"
	codeOriginForbidden     errorCode = "origin_forbidden"
	codeTargetForbidden     errorCode = "target_forbidden"
	codeMethodNotAllowed    errorCode = "method_not_allowed"
	codeBodyTooLarge        errorCode = "body_too_large"
	codeRateLimited         errorCode = "rate_limited"
	codeConcurrencyLimited  errorCode = "concurrency_limited"
	codeQuotaExceeded       errorCode = "quota_exceeded"
	codeUpstreamUnreachable errorCode = "upstream_unreachable"
	codeResponseTooLarge    errorCode = "response_too_large"
	codeUpstreamTimeout     errorCode = "upstream_timeout"
	codeLoopDetected        errorCode = "loop_detected"
	codeUnavailable         errorCode = "unavailable"
	codeRequestTimeout      errorCode = "request_timeout"
	codeKeyRequired         errorCode = "key_required"
	codeKeyForbidden        errorCode = "key_forbidden"
	codeOriginBlocked       errorCode = "origin_blocked"
	codeTargetBlocked       errorCode = "target_blocked"
	codeInvalidRequest      errorCode = "invalid_request"
	codeInternal            errorCode = "internal_error"
)

// status maps each code to its HTTP status. A code not listed here is a bug,
// reported as 500 so it is noticed.
func (c errorCode) status() int {
	switch c {
	case codeInvalidTarget, codeHeaderRequired, codeInvalidRequest:
		return http.StatusBadRequest
	case codeNotFound:
		return http.StatusNotFound
	case codeKeyRequired:
		return http.StatusUnauthorized
	case codeOriginForbidden, codeTargetForbidden, codeKeyForbidden, codeOriginBlocked, codeTargetBlocked:
		return http.StatusForbidden
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeRequestTimeout:
		return http.StatusRequestTimeout
	case codeRateLimited, codeConcurrencyLimited, codeQuotaExceeded:
		return http.StatusTooManyRequests
	case codeUpstreamUnreachable, codeResponseTooLarge:
		return http.StatusBadGateway
	case codeUpstreamTimeout:
		return http.StatusGatewayTimeout
	case codeLoopDetected:
		return http.StatusLoopDetected
	case codeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// HeaderError names the proxy's own error code on every error it generates,
// so a client can tell "corsbridge refused" from "the upstream said 403".
// Upstream responses never carry it: a hostile upstream could forge it.
const HeaderError = "X-Corsbridge-Error"

type errorBody struct {
	Code    errorCode `json:"code"`
	Message string    `json:"message"`
}

// writeError answers with the JSON error contract, CORS headers included so
// the page can read it. message must never contain internal detail
// (addresses, Redis errors).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, code errorCode, message string) {
	body, err := json.Marshal(errorBody{Code: code, Message: message})
	if err != nil {
		body = []byte(`{"code":"internal_error","message":"error encoding failed"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	// Headers of a proxied response that failed half-way must not leak into
	// our own answer.
	h.Del("Content-Encoding")
	h.Del("Content-Disposition")
	h.Set(HeaderError, string(code))
	if rec := recordFrom(r); rec != nil {
		rec.code = code
	}
	s.writeOwnJSON(w, r, code.status(), body)
}

// writeOwnJSON writes a JSON body the proxy generates itself (an error, a
// key's usage), readable by the page: Access-Control-Allow-Origin is
// allowCORS's, the expose list is the proxy's own headers.
func (s *Server) writeOwnJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	s.cors.exposeOwn(h)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
