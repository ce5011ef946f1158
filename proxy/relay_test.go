package proxy

import (
	"net/http"
	"slices"
	"testing"
)

// callLog is a ResponseWriter that records what reached it, in order.
type callLog struct {
	h     http.Header
	calls []string
}

func (c *callLog) Header() http.Header { return c.h }
func (c *callLog) WriteHeader(code int) {
	c.calls = append(c.calls, "status "+http.StatusText(code))
}
func (c *callLog) Write(p []byte) (int, error) {
	c.calls = append(c.calls, "write "+string(p))
	return len(p), nil
}
func (c *callLog) Flush() { c.calls = append(c.calls, "flush") }

func TestRelayWriterHoldsTheStatusLineBack(t *testing.T) {
	tests := []struct {
		name string
		do   func(w *relayWriter)
		want []string
	}{
		{"status alone is held", func(w *relayWriter) { w.WriteHeader(418) }, nil},
		{"first write sends it", func(w *relayWriter) { w.WriteHeader(418); _, _ = w.Write([]byte("a")) },
			[]string{"status I'm a teapot", "write a"}},
		{"a flush sends it: event streams", func(w *relayWriter) { w.WriteHeader(200); w.Flush() },
			[]string{"status OK", "flush"}},
		{"commit sends a body-less status", func(w *relayWriter) { w.WriteHeader(204); w.commit() },
			[]string{"status No Content"}},
		{"a second status before commit is ignored", func(w *relayWriter) { w.WriteHeader(200); w.WriteHeader(502); w.commit() },
			[]string{"status OK"}},
		{"informational passes at once", func(w *relayWriter) { w.WriteHeader(103) },
			[]string{"status Early Hints"}},
		{"write without status", func(w *relayWriter) { _, _ = w.Write([]byte("b")) }, []string{"write b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &callLog{h: http.Header{}}
			w := &relayWriter{ResponseWriter: log}
			tt.do(w)
			if !slices.Equal(log.calls, tt.want) {
				t.Errorf("calls = %q, want %q", log.calls, tt.want)
			}
		})
	}
}
