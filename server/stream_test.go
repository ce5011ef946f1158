package server

import (
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// zeroReader produces n zero bytes without holding them in memory.
type zeroReader struct{ left int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	clear(p)
	z.left -= int64(len(p))
	return len(p), nil
}

func TestLargeDownloadKeepsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 256 MiB")
	}
	const size = 256 << 20
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.Copy(w, &zeroReader{left: size})
	})
	p := newProxy(t, func(d *Deps) { d.Config.MaxResponseBody = 1 << 30 })

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()

	req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/big", nil)
	req.Header.Set("Origin", "https://a.example")
	res, err := p.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	close(stop)
	<-sampled
	if err != nil || n != size {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
	growth := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("heap in use grew by %.1f MiB while relaying %d MiB", float64(growth)/(1<<20), size>>20)
	if growth > 32<<20 {
		t.Errorf("heap grew by %d MiB relaying %d MiB: the body is being buffered", growth>>20, size>>20)
	}
}
