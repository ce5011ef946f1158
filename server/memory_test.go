package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestHeapStaysBoundedUnderLargeRequests sends thousands of requests with
// large headers and bodies through the proxy and checks the heap returns to
// where it started: nothing per request is retained.
func TestHeapStaysBoundedUnderLargeRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of requests")
	}
	// Not newUpstream: its recorder keeps every request.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-Large"))
		_, _ = io.Copy(w, bytes.NewReader(make([]byte, 64<<10)))
	}))
	defer upstream.Close()
	p := newProxy(t)
	large := strings.Repeat("h", 16<<10)
	body := make([]byte, 128<<10) // beyond the replay buffer: streamed
	small := make([]byte, 8<<10)  // buffered for replay

	send := func(n int) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range n / 8 {
					payload := body
					if (i+w)%2 == 0 {
						payload = small
					}
					req, _ := http.NewRequest("POST", p.URL+"/"+upstream.URL+"/mem", bytes.NewReader(payload))
					req.Header.Set("Origin", "https://a.example")
					req.Header.Set("X-Large", large)
					res, err := p.Client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						t.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	send(200) // warm up pools and connections
	before := heap()
	send(2000)
	after := heap()
	growth := int64(after) - int64(before)
	t.Logf("heap after 2000 requests (16 KiB header, 8-128 KiB body, 64 KiB response): %+.1f MiB (%.1f -> %.1f MiB)",
		float64(growth)/(1<<20), float64(before)/(1<<20), float64(after)/(1<<20))
	if growth > 8<<20 {
		t.Errorf("heap grew by %.1f MiB over 2000 requests", float64(growth)/(1<<20))
	}
}
