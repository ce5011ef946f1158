package server

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
)

// HeaderRequestID carries the proxy's id of a request on every response, so a
// user can quote it and an operator can find the request's log line.
const HeaderRequestID = "X-Request-Id"

// maxClientRequestID is the longest X-Request-Id a client may send and still
// have logged.
const maxClientRequestID = 64

// newRequestID makes the proxy's id of a request: 80 bits from crypto/rand
// as 16 lower-case base32 characters, such as "k3q7x2mz4pd5rnwa". Log-friendly
// (letters and digits only) and unique across instances without coordination:
// a collision is expected only after about a trillion ids.
//
// Random, not a per-process prefix and a counter: anyone who reads two
// counter ids learns how many requests the instance served between them.
// crypto/rand costs a little more than an atomic add (measured with
// BenchmarkRequestID and BenchmarkHandler, well under 1% of a request).
//
// A client's own X-Request-Id is never used as ours: anyone can send any
// value, and a log keyed by client-chosen ids lets one client pose as another
// or flood one id. When it is short and made of safe characters it is logged
// beside ours as client_request_id, so both sides can correlate; otherwise it
// is ignored. Either way the response carries our id.
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails on Go 1.24+
	var out [16]byte
	requestIDEncoding.Encode(out[:], b[:])
	return string(out[:])
}

// requestIDEncoding is base32 (RFC 4648) in lower case: 10 bytes make 16
// characters, so there is no padding.
var requestIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// clientRequestID returns the client's X-Request-Id if it is at most 64
// characters of letters, digits and "-_.:", else "".
func clientRequestID(h http.Header) string {
	values := h[HeaderRequestID]
	if len(values) != 1 {
		return ""
	}
	v := values[0]
	if v == "" || len(v) > maxClientRequestID {
		return ""
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return ""
		}
	}
	return v
}
