package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsbridge/corsbridge/access"
)

// TestKeyMetricsCountPerKey: requests and response bytes are counted under
// the key that made them; requests without a key are not.
func TestKeyMetricsCountPerKey(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("0123456789")) })
	team, teamKey := newKey(t, "team", "off", time.Time{}, nil, nil)
	ci, ciKey := newKey(t, "ci", "off", time.Time{}, nil, nil)
	p := newProxy(t, withMetrics, withAccess(t, access.Config{}, access.Data{Keys: []access.Key{team, ci}}))
	for _, key := range []string{teamKey, teamKey, teamKey, ciKey, ""} {
		headers := map[string]string{"Origin": "https://app.example"}
		if key != "" {
			headers[HeaderKey] = key
		}
		if res, body := p.do(t, "GET", "/"+upstream.URL+"/x", nil, headers); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	}
	p.Client.CloseIdleConnections()
	got := scrape(t, p)
	wantSamples(t, got, map[string]float64{
		`corsbridge_key_requests_total{key="team"}`:            3,
		`corsbridge_key_response_body_bytes_total{key="team"}`: 30,
		`corsbridge_key_requests_total{key="ci"}`:              1,
		`corsbridge_key_response_body_bytes_total{key="ci"}`:   10,
	})
	if len(got) == 0 {
		t.Fatal("no samples")
	}
	for name := range got {
		if name == `corsbridge_key_requests_total{key=""}` {
			t.Errorf("a request without a key was counted: %s", name)
		}
	}
}

// TestKeyMetricsBounded: past the bound, new names share one series.
func TestKeyMetricsBounded(t *testing.T) {
	k := newKeyMetrics(2)
	reg := prometheus.NewRegistry()
	reg.MustRegister(k.requests, k.bytes)
	for _, name := range []string{"a", "b", "c", "a", "d", "token:xyz"} {
		k.observe(name, 5)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"corsbridge_key_requests_total/a": 2, "corsbridge_key_requests_total/b": 1, "corsbridge_key_requests_total/" + otherKeys: 3,
		"corsbridge_key_response_body_bytes_total/a": 10, "corsbridge_key_response_body_bytes_total/b": 5,
		"corsbridge_key_response_body_bytes_total/" + otherKeys: 15,
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}
