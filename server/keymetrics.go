package server

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxKeySeries bounds the key label. Keys are few, since an operator adds
// each one, and tokens are signed by the operator too; but a series lives
// until the process ends, so the first maxKeySeries names seen get a series
// each and every later name is counted under otherKeys.
const (
	maxKeySeries = 200
	otherKeys    = "(other)" // never a key name: names have no parentheses
)

// keyMetrics counts requests and response bytes per access key or token,
// by name: who used a demo, and how much.
type keyMetrics struct {
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	max      int

	mu     sync.Mutex
	series map[string]keySeries
}

type keySeries struct{ requests, bytes prometheus.Counter }

func newKeyMetrics(max int) *keyMetrics {
	return &keyMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsbridge_key_requests_total",
			Help: "Proxy requests presenting a genuine access key or token (refused ones included), by its name (token:<id> for a token); past the first 200 names, key=\"(other)\".",
		}, []string{"key"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsbridge_key_response_body_bytes_total",
			Help: "Response body bytes written for proxy requests presenting a genuine access key or token, by its name; past the first 200 names, key=\"(other)\".",
		}, []string{"key"}),
		max:    max,
		series: map[string]keySeries{},
	}
}

func (k *keyMetrics) observe(name string, bytesOut int64) {
	s := k.lookup(name)
	s.requests.Inc()
	if bytesOut > 0 {
		s.bytes.Add(float64(bytesOut))
	}
}

func (k *keyMetrics) lookup(name string) keySeries {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.series[name]; ok {
		return s
	}
	label := name
	if len(k.series) >= k.max {
		label = otherKeys
	}
	s := keySeries{requests: k.requests.WithLabelValues(label), bytes: k.bytes.WithLabelValues(label)}
	if label != otherKeys {
		k.series[name] = s
	}
	return s
}
