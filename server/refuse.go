package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/proxy"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// limitRefusal is the limits step's refusal: over a limit, or the limits
// unavailable while failing closed.
type limitRefusal struct{ res ratelimit.Result }

func (l limitRefusal) Error() string { return "refused by the rate limits" }

// refuse is the one place where a step's refusal becomes an answer: the
// error code and message, the metrics, and the log fields. Every pipeline
// step and the forwarder's failures end here. Messages never carry internal
// detail; that goes to the log only.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var (
		target  *targetError
		policy  *allowlist.Error
		denied  *access.Error
		limited limitRefusal
		header  *errHeaderRequired
		fail    *proxy.Failure
	)
	switch {
	case errors.As(err, &fail):
		// First: a failure wraps the check that caused it, and its kind
		// says whose fault it was.
		s.refuseForward(w, r, fail)
	case errors.As(err, &target):
		s.writeError(w, r, target.code, target.message)
	case errors.As(err, &header):
		s.writeError(w, r, codeHeaderRequired, header.message)
	case errors.As(err, &policy):
		s.refusePolicy(w, r, policy)
	case errors.As(err, &denied):
		s.refuseAccess(w, r, denied)
	case errors.As(err, &limited):
		s.refuseLimits(w, r, limited.res)
	default:
		s.writeError(w, r, codeInternal, "internal error")
	}
}

func (s *Server) refusePolicy(w http.ResponseWriter, r *http.Request, err *allowlist.Error) {
	code := codeTargetForbidden
	switch err.Kind {
	case allowlist.KindInvalid:
		code = codeInvalidTarget
	case allowlist.KindOrigin:
		code = codeOriginForbidden
	}
	s.noteRefusal(r, code, err)
	s.writeError(w, r, code, err.Reason)
}

func (s *Server) refuseAccess(w http.ResponseWriter, r *http.Request, err *access.Error) {
	code := codeKeyForbidden
	switch err.Code {
	case access.CodeKeyRequired:
		code = codeKeyRequired
	case access.CodeOriginBlocked:
		code = codeOriginBlocked
	case access.CodeTargetBlocked:
		code = codeTargetBlocked
	case access.CodeUnavailable:
		code = codeUnavailable
		w.Header().Set("Retry-After", "1")
	}
	s.writeError(w, r, code, err.Reason)
}

func (s *Server) refuseLimits(w http.ResponseWriter, r *http.Request, res ratelimit.Result) {
	if res.Unavailable {
		s.writeError(w, r, codeUnavailable, "rate limits are temporarily unavailable; retry shortly")
		return
	}
	recordFrom(r).limitedBy = res.RefusedBy
	if res.ConcurrencyLimited {
		s.refuseConcurrency(w, r, res.RefusedBy)
		return
	}
	if res.RefusedBy == ratelimit.LimitQuota {
		s.refuseQuota(w, r, res.Quota)
		return
	}
	if s.metrics != nil {
		if c := s.metrics.rateLimited[res.RefusedBy]; c != nil {
			c.Inc()
		}
	}
	s.writeError(w, r, codeRateLimited, "rate limit exceeded; retry after "+w.Header().Get("Retry-After")+" seconds")
}

func (s *Server) refuseConcurrency(w http.ResponseWriter, r *http.Request, limit string) {
	if s.metrics != nil {
		if c := s.metrics.concurrencyLimited[limit]; c != nil {
			c.Inc()
		}
	}
	who := "from this client"
	switch limit {
	case ratelimit.LimitOrigin:
		who = "for this origin"
	case ratelimit.LimitKey:
		who = "for this key"
	}
	s.writeError(w, r, codeConcurrencyLimited, "too many requests in flight "+who+"; retry when one has ended")
}

// refuseQuota answers a request over one of its key's quotas: which one,
// and when it resets (Retry-After counts the seconds to then).
func (s *Server) refuseQuota(w http.ResponseWriter, r *http.Request, q ratelimit.QuotaUse) {
	if s.metrics != nil {
		if c := s.metrics.quotaExceeded[q.Name]; c != nil {
			c.Inc()
		}
	}
	what := "requests"
	name := q.Name
	if q.Name == ratelimit.QuotaMonthlyBytes {
		what, name = "response bytes", ratelimit.QuotaMonthly
	}
	s.writeError(w, r, codeQuotaExceeded, name+" quota of "+strconv.FormatInt(q.Limit, 10)+" "+what+
		" used up; resets at "+q.Resets.UTC().Format(time.RFC3339))
}

// refuseForward answers a request the forwarder could not relay. It is the
// forwarder's Fail hook, so it also sees the refusals of the checks the
// forwarder runs on every dial and redirect hop.
func (s *Server) refuseForward(w http.ResponseWriter, r *http.Request, fail *proxy.Failure) {
	switch fail.Kind {
	case proxy.KindRefused:
		var policy *allowlist.Error
		var denied *access.Error
		switch {
		case errors.As(fail.Err, &policy):
			s.refusePolicy(w, r, policy)
		case errors.As(fail.Err, &denied):
			s.refuseAccess(w, r, denied)
		default:
			s.writeError(w, r, codeTargetForbidden, "refused by policy")
		}
	case proxy.KindBodyTooLarge:
		s.writeError(w, r, codeBodyTooLarge, s.bodyTooLarge)
	case proxy.KindRequestTimeout:
		s.writeError(w, r, codeRequestTimeout, "the request body stopped arriving")
	case proxy.KindResponseTooLarge:
		s.writeError(w, r, codeResponseTooLarge, s.responseTooLarge)
	case proxy.KindBadRequestBody:
		s.writeError(w, r, codeInvalidRequest, "the request body is malformed: its chunked encoding cannot be decoded")
	case proxy.KindBadRedirect:
		s.writeError(w, r, codeUpstreamUnreachable, "the upstream sent a redirect that cannot be followed: its Location is not a valid http or https URL")
	case proxy.KindUpstreamTimeout:
		s.writeError(w, r, codeUpstreamTimeout, "the upstream did not answer in time")
	default:
		s.writeError(w, r, codeUpstreamUnreachable, "the upstream could not be reached")
	}
}

// webError is the landing page's and assets' way to the one error writer.
func (s *Server) webError(w http.ResponseWriter, r *http.Request, code, message string) {
	s.writeError(w, r, errorCode(code), message)
}
