package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// HeaderRequestID carries the proxy's id of a request on every response, so a
// user can quote it and an operator can find the request's log line.
const HeaderRequestID = "X-Request-Id"

// maxClientRequestID is the longest X-Request-Id a client may send and still
// have logged.
const maxClientRequestID = 64

// requestIDs makes the proxy's request ids: a random prefix drawn once per
// process and a sequence number, such as "9f86d081884c-1a3". They are unique
// across instances without coordination and cost one atomic add each.
//
// A client's own X-Request-Id is never used as ours: anyone can send any
// value, and a log keyed by client-chosen ids lets one client pose as another
// or flood one id. When it is short and made of safe characters it is logged
// beside ours as client_request_id, so both sides can correlate; otherwise it
// is ignored. Either way the response carries our id.
type requestIDs struct {
	prefix string
	seq    atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails on Go 1.24+
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix...)
	b = strconv.AppendUint(b, g.seq.Add(1), 36)
	return string(b)
}

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
