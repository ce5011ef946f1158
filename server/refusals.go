package server

import (
	"net/http"

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

// refusalReason maps a policy refusal to a reason class from a fixed list, by
// the rule behind it (its Cause), never by its message: the message may name a
// port or a range, and a metric label must not grow with what clients send.
func refusalReason(err *allowlist.Error) string {
	switch err.Kind {
	case allowlist.KindInvalid:
		return "malformed"
	case allowlist.KindOrigin:
		switch err.Cause {
		case allowlist.CauseOriginDenied:
			return "origin_denied"
		case allowlist.CauseOriginMalformed:
			return "origin_malformed"
		default: // not allowed, null, or missing with an allowlist
			return "origin_not_allowed"
		}
	}
	switch err.Cause {
	case allowlist.CauseMetadata:
		return "metadata"
	case allowlist.CauseLoopback, allowlist.CausePrivate:
		return "private_address"
	case allowlist.CauseSelf:
		return "self"
	case allowlist.CausePort:
		return "port"
	case allowlist.CauseLocalName:
		return "local_name"
	case allowlist.CauseTargetDenied:
		return "target_denied"
	case allowlist.CauseTargetNotAllowed:
		return "target_not_allowed"
	}
	return "other"
}

// noteRefusal records a policy refusal for the log and the metrics. A
// refusal after the request was sent upstream came from the SSRF guard in
// the dialer or from a redirect hop.
func (s *Server) noteRefusal(r *http.Request, code errorCode, err *allowlist.Error) {
	rec := recordFrom(r)
	rec.denyReason = err.Reason
	if s.metrics == nil {
		return
	}
	key := refusalKey{code: code, reason: refusalReason(err), stage: stageCheck}
	if rec.forwarding {
		key.stage = stageUpstream
	}
	if c := s.metrics.refusalByKind[key]; c != nil {
		c.Inc()
	}
}
