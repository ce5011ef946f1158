package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/usage"
)

// UsagePath is where a key or token reads its own figures.
const UsagePath = "/_corsbridge/usage"

// usageAnswer is GET /_corsbridge/usage's JSON: who the credential is, its
// rate, its quotas, and what it used today and this month (UTC).
type usageAnswer struct {
	Name   string        `json:"name"`
	Rate   string        `json:"rate"`   // the credential's own limit: "100/1h", or "off"
	Quotas []usageQuota  `json:"quotas"` // those that are on; [] for none
	Usage  *usagePeriods `json:"usage,omitempty"`
}

// usageQuota is one quota as the limiter counts it.
type usageQuota struct {
	Name      string    `json:"name"` // daily, monthly or monthly-bytes
	Limit     int64     `json:"limit"`
	Used      int64     `json:"used"`
	Remaining int64     `json:"remaining"`
	Resets    time.Time `json:"resets"`
}

type usagePeriods struct {
	Today usagePeriod `json:"today"`
	Month usagePeriod `json:"month"`
}

// usagePeriod is the figures of the days from From to To, inclusive.
type usagePeriod struct {
	From     string           `json:"from"`
	To       string           `json:"to"`
	Requests int64            `json:"requests"`
	Bytes    int64            `json:"bytes"`
	Refused  map[string]int64 `json:"refused"`
}

// handleUsage serves a key's or token's own figures to whoever holds it, so
// a demo page can show "812 requests left today". The credential comes as
// for a proxy request (X-Corsbridge-Key, or corsbridge_key in this URL's
// query) and must be genuine and unexpired; its origin scope applies when
// the request carries an Origin, so a page on another origin cannot read
// it, and its target scope does not (there is no target). Reading does not
// count as the credential's request: not against its rate or quotas, not in
// its usage. It counts as one of its address's (see takeClientLimit).
func (s *Server) handleUsage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recordFrom(r)
		grant, err := s.access.Inspect(requestKey(r), rec.origin, r.Referer(), rec.start)
		if err != nil {
			s.refuse(w, r, err)
			return
		}
		limits := s.takeClientLimit(w, r)
		defer limits.Release()
		if !limits.Allowed() {
			s.refuse(w, r, limitRefusal{limits})
			return
		}
		answer := usageAnswer{Name: grant.Name, Rate: grant.Limit.String(), Quotas: []usageQuota{}}
		var quotas []ratelimit.QuotaUse
		if s.limiter != nil {
			quotas, err = s.limiter.QuotaStatus(r.Context(), grant.Name, grant.Quota, rec.start)
		}
		for _, q := range quotas {
			answer.Quotas = append(answer.Quotas, usageQuota{q.Name, q.Limit, q.Used, q.Remaining, q.Resets.UTC()})
		}
		if err == nil && s.usage != nil {
			answer.Usage, err = s.usagePeriods(r, grant.Name, rec.start)
		}
		if err != nil {
			// Debug: the limiter and the ledger log their stores'
			// failures once, and every read would repeat them.
			s.logger.Debug("usage: cannot read usage or quotas", "error", err)
			w.Header().Set("Retry-After", "1")
			s.writeError(w, r, codeUnavailable, "usage is temporarily unavailable; retry shortly")
			return
		}
		body, err := json.Marshal(answer)
		if err != nil {
			s.refuse(w, r, err)
			return
		}
		s.writeOwnJSON(w, r, http.StatusOK, append(body, '\n'))
	})
}

// takeClientLimit bounds usage reads per address. A read costs up to two
// store round trips, and demo tokens sit in plain sight in page sources, so
// without a bound anyone could make an instance hammer its Redis. The bound
// is the one the proxy puts on a keyless request's address: the client limit
// and the client cap in flight. It is taken with a Request that has only
// Client set: with no Key the credential's own rate and quotas are not
// counted (reading them must not use them up), and with no Origin the origin
// limit and cap are not either (a page on a busy site may still read its
// figures). With the client limit off nothing is counted and the read is
// admitted, as before; the headers are set as on a proxy request.
func (s *Server) takeClientLimit(w http.ResponseWriter, r *http.Request) ratelimit.Result {
	if s.limiter == nil {
		return ratelimit.Result{}
	}
	req := ratelimit.Request{Client: ratelimit.ClientIP(r, s.cfg.TrustedProxyHeader)}
	res := s.limiter.Take(r.Context(), req, time.Now())
	res.SetHeaders(w.Header())
	return res
}

// usagePeriods reads this month's days, today included, in one read.
func (s *Server) usagePeriods(r *http.Request, name string, now time.Time) (*usagePeriods, error) {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	days, err := s.usage.Range(r.Context(), name, first, now)
	if err != nil {
		return nil, err
	}
	p := &usagePeriods{Today: period(days[len(days)-1:]), Month: period(days)}
	return p, nil
}

func period(days []usage.Day) usagePeriod {
	var sum usage.Counts
	for _, d := range days {
		sum.Add(d.Counts)
	}
	if sum.Refused == nil {
		sum.Refused = map[string]int64{}
	}
	return usagePeriod{
		From: days[0].Date.Format(time.DateOnly), To: days[len(days)-1].Date.Format(time.DateOnly),
		Requests: sum.Requests, Bytes: sum.Bytes, Refused: sum.Refused,
	}
}
