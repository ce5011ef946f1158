package cache

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestPerRequestHeaders: an entry is the upstream's response without the
// proxy's per-request headers, so a hit carries the asking origin's CORS
// header, never the one of the request that filled the entry.
func TestPerRequestHeaders(t *testing.T) {
	c := newCache(t, DefaultConfig(), Options{})
	up := echoUpstream(t, "max-age=60", "Access-Control-Allow-Origin", "https://forged.example")
	proxy := newProxy(t, c, up.URL)
	first, _ := fetch(t, http.MethodGet, proxy.URL+"/p", "Origin", "https://a.example")
	second, _ := fetch(t, http.MethodGet, proxy.URL+"/p", "Origin", "https://b.example")
	if got := second.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://b.example" {
		t.Fatalf("hit for b.example carries Access-Control-Allow-Origin %q", got)
	}
	if second.Header.Get("X-Test-Outcome") != "hit" || second.Header.Get("X-Request-Id") == first.Header.Get("X-Request-Id") {
		t.Fatalf("hit %q with request id %q (first %q)", second.Header.Get("X-Test-Outcome"), second.Header.Get("X-Request-Id"), first.Header.Get("X-Request-Id"))
	}
	e, _ := c.mem.get(variantKey(up.URL+"/p", "", ""))
	if e == nil {
		t.Fatal("no entry stored")
	}
	for _, name := range []string{"X-Request-Id", "X-Test-Outcome", "Age", "Cache-Status"} {
		if _, ok := e.header[name]; ok {
			t.Errorf("entry keeps the per-request header %s", name)
		}
	}
}

func TestBodies(t *testing.T) {
	const maxEntry = 4 << 10
	tests := []struct {
		name     string
		size     int
		declared bool
		cut      bool
		stored   bool
	}{
		{"small declared", 1000, true, false, true},
		{"small undeclared", 1000, false, false, true},
		{"exactly the max", maxEntry, false, false, true},
		{"empty", 0, true, false, true},
		{"too large declared", maxEntry + 1, true, false, false},
		{"too large undeclared streams whole", 3 * maxEntry, false, false, false},
		{"cut short", 1000, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxEntry = maxEntry
			c := newCache(t, cfg, Options{})
			body := strings.Repeat("x", tt.size)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				if tt.declared {
					w.Header().Set("Content-Length", strconv.Itoa(tt.size))
				}
				if tt.cut {
					w.Header().Set("Content-Length", strconv.Itoa(2*tt.size))
				}
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, body)
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
			})
			proxy := newProxy(t, c, up.URL)
			res, err := http.Get(proxy.URL + "/b")
			var got []byte
			if err == nil {
				got, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if tt.cut {
				if err == nil {
					t.Fatalf("a cut body reached the client as whole (%d bytes)", len(got))
				}
			} else if err != nil || string(got) != body {
				t.Fatalf("client got %d bytes, %v; want %d", len(got), err, len(body))
			}
			waitFor(t, func() bool { return up.count.Load() == 1 })
			if e, _ := c.mem.get(variantKey(up.URL+"/b", "", "")); (e != nil) != tt.stored {
				t.Fatalf("entry %v, want stored=%v", e != nil, tt.stored)
			}
			if s := c.Stats(); tt.stored && s.BytesStoredMemory != uint64(tt.size) {
				t.Fatalf("bytes stored %d, want %d", s.BytesStoredMemory, tt.size)
			}
		})
	}
}

// TestMemoryBound: the memory tier evicts to stay within its size.
func TestMemoryBound(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Size, cfg.MaxEntry = 64<<10, 8<<10
	c := newCache(t, cfg, Options{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, strings.Repeat("y", 6<<10))
	})
	proxy := newProxy(t, c, up.URL)
	for i := range 40 {
		fetch(t, http.MethodGet, proxy.URL+"/m"+strconv.Itoa(i))
	}
	c.mem.c.CleanUp()
	if w := c.mem.c.WeightedSize(); w > uint64(cfg.Size) {
		t.Fatalf("memory tier holds %d bytes, over its %d", w, cfg.Size)
	}
	waitFor(t, func() bool { return c.Stats().Evictions > 0 })
}
