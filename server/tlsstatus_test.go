package server

import (
	"testing"
	"time"
)

// /readyz and the metric report what Deps.TLSStatus says, and nothing about
// TLS when it is nil (TLS terminated in front of the proxy).
func TestReadyzAndMetricReportTLS(t *testing.T) {
	expiry := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		status     func() (string, time.Time)
		wantReadyz string
		wantMetric float64 // -1: no such metric
	}{
		{"TLS elsewhere", nil,
			`{"status":"ready","rate_limit":"not_configured","access":"not_configured","cache":"off","usage":"off"}`, -1},
		{"ACME before the first certificate", func() (string, time.Time) { return "acme", time.Time{} },
			`{"status":"ready","rate_limit":"not_configured","access":"not_configured","cache":"off","usage":"off","tls":"acme"}`, 0},
		{"files", func() (string, time.Time) { return "files", expiry },
			`{"status":"ready","rate_limit":"not_configured","access":"not_configured","cache":"off","usage":"off","tls":"files","tls_expires":"2027-03-01T12:00:00Z"}`,
			float64(expiry.Unix())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, withMetrics, func(d *Deps) { d.TLSStatus = tc.status; d.RateLimit = nil })
			res, body := p.do(t, "GET", "/readyz", nil, nil)
			if res.StatusCode != 200 || string(body) != tc.wantReadyz+"\n" {
				t.Errorf("/readyz %d %s\nwant %s", res.StatusCode, body, tc.wantReadyz)
			}
			got, ok := scrape(t, p)["corsbridge_tls_certificate_expiry_timestamp_seconds"]
			switch {
			case tc.wantMetric < 0 && ok:
				t.Errorf("expiry metric present without TLS: %v", got)
			case tc.wantMetric >= 0 && got != tc.wantMetric:
				t.Errorf("expiry metric %v (present %v), want %v", got, ok, tc.wantMetric)
			}
		})
	}
}
