package server

import (
	"net/http"
	"strings"

	"github.com/corsbridge/corsbridge/allowlist"
)

// Stages of a policy refusal, for the refusals metric.
const (
	stageCheck    = "check"    // the request's URL and origin, before any DNS
	stageUpstream = "upstream" // the address actually dialled, or a redirect hop
)

type refusalKey struct {
	code   errorCode
	reason string
	stage  string
}

// refusalReasons lists, per error code, the reason classes refusalReason
// returns: the whole label space of the refusals metric.
var refusalReasons = map[errorCode][]string{
	codeOriginForbidden: {"origin_denied", "origin_not_allowed", "origin_malformed"},
	codeTargetForbidden: {"private_address", "metadata", "self", "port", "local_name", "target_denied", "target_not_allowed", "other"},
	codeInvalidTarget:   {"malformed"},
}

func allRefusals() []refusalKey {
	var keys []refusalKey
	for code, reasons := range refusalReasons {
		for _, reason := range reasons {
			for _, stage := range []string{stageCheck, stageUpstream} {
				keys = append(keys, refusalKey{code, reason, stage})
			}
		}
	}
	return keys
}

// refusalReason maps a policy refusal to a reason class from a fixed list:
// the allowlist's reasons are safe to show but may name a port or a range,
// and a metric label must not grow with what clients send.
func refusalReason(err *allowlist.Error) string {
	r := err.Reason
	switch err.Kind {
	case allowlist.KindInvalid:
		return "malformed"
	case allowlist.KindOrigin:
		switch {
		case strings.Contains(r, "denied"):
			return "origin_denied"
		case strings.Contains(r, "malformed"):
			return "origin_malformed"
		default: // not allowed, null, or missing with an allowlist
			return "origin_not_allowed"
		}
	}
	switch {
	case strings.Contains(r, "(metadata"):
		return "metadata"
	case strings.Contains(r, "private address"):
		return "private_address"
	case strings.Contains(r, "this proxy itself"):
		return "self"
	case strings.HasPrefix(r, "target port "):
		return "port"
	case strings.Contains(r, "local-only host name"):
		return "local_name"
	case r == "target is denied":
		return "target_denied"
	case r == "target is not allowed":
		return "target_not_allowed"
	}
	return "other"
}

// noteRefusal records a policy refusal for the log and the metrics. A
// refusal after the request was sent upstream came from the SSRF guard in
// the dialer or from a redirect hop.
func (s *Server) noteRefusal(r *http.Request, code errorCode, err *allowlist.Error) {
	info := infoFrom(r)
	info.denyReason = err.Reason
	if s.metrics == nil {
		return
	}
	key := refusalKey{code: code, reason: refusalReason(err), stage: stageCheck}
	if !info.upstreamStart.IsZero() {
		key.stage = stageUpstream
	}
	if c := s.metrics.refusalByKind[key]; c != nil {
		c.Inc()
	}
}
