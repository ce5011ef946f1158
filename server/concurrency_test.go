package server

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// stream is an event stream held open through the proxy.
type stream struct {
	res    *http.Response
	cancel context.CancelFunc
}

// close hangs up, as a page does when it closes its EventSource.
func (s *stream) close() {
	s.cancel()
	s.res.Body.Close()
}

// openStream sends an event-stream request as client (through the trusted
// client-IP header) from origin, and returns once the first event has come
// through the proxy, so the request is surely in flight. A refusal is
// returned with its body read and no stream.
func openStream(t *testing.T, parent context.Context, p *proxyFixture, upstreamURL, client, origin string) (*stream, *http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(parent)
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/"+upstreamURL, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Fly-Client-IP", client)
	req.Header.Set("Accept", "text/event-stream")
	res, err := p.Client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("stream from %s, %s: %v", client, origin, err)
	}
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		return nil, res, body
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "data: hello\n" {
		cancel()
		res.Body.Close()
		t.Fatalf("first event from %s, %s: %q, %v", client, origin, line, err)
	}
	return &stream{res: res, cancel: cancel}, res, nil
}

// waitInFlight waits until the limiter holds want places under limit: a
// place is given back when the handler returns, a moment after the client
// hangs up or the upstream ends.
func waitInFlight(t *testing.T, p *proxyFixture, limit string, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Server.limiter.InFlight(limit) != want {
		if time.Now().After(deadline) {
			t.Fatalf("InFlight(%s) = %d, want %d", limit, p.Server.limiter.InFlight(limit), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHeldStreamsAreCapped holds real event streams open through the proxy:
// one client may hold ClientConcurrency of them and one origin
// OriginConcurrency, across clients; the next is 429 concurrency_limited in
// the error contract; a place comes back when a stream ends, whether the
// page hung up, the upstream finished, or the upstream broke off mid-body.
func TestHeldStreamsAreCapped(t *testing.T) {
	release := make(chan struct{})
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: hello\n\n")
		w.(http.Flusher).Flush()
		switch {
		case r.URL.Query().Has("end"):
			return
		case r.URL.Query().Has("abort"):
			panic(http.ErrAbortHandler) // the upstream resets mid-body
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the upstream closes
	p := newProxy(t, withMetrics, func(d *Deps) {
		d.Config.TrustedProxyHeader = "Fly-Client-IP"
		d.RateLimit = &ratelimit.Config{ClientConcurrency: 2, OriginConcurrency: 3}
	})
	// Streams live as long as the whole test, not the subtest that opened
	// them.
	parent := t.Context()
	var open []*stream
	t.Cleanup(func() {
		for _, s := range open {
			s.close()
		}
	})
	hold := func(t *testing.T, client, origin string) {
		t.Helper()
		s, res, body := openStream(t, parent, p, upstream.URL+"/events", client, origin)
		if s == nil {
			t.Fatalf("stream from %s, %s refused: %d %s", client, origin, res.StatusCode, body)
		}
		open = append(open, s)
	}
	refused := func(t *testing.T, client, origin, message string) {
		t.Helper()
		s, res, body := openStream(t, parent, p, upstream.URL+"/events", client, origin)
		if s != nil {
			open = append(open, s)
			t.Fatalf("stream from %s, %s admitted, want 429", client, origin)
		}
		checkErrorContract(t, res, body, http.StatusTooManyRequests, "concurrency_limited")
		if res.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), message) {
			t.Errorf("Retry-After %q, body %s; want 1 and %q", res.Header.Get("Retry-After"), body, message)
		}
	}

	hold(t, "192.0.2.1", "https://a.example")
	hold(t, "192.0.2.1", "https://b.example")
	refused(t, "192.0.2.1", "https://c.example", "from this client")
	hold(t, "192.0.2.2", "https://a.example")
	hold(t, "192.0.2.3", "https://a.example")
	refused(t, "192.0.2.4", "https://a.example", "for this origin")
	wantSamples(t, scrape(t, p), map[string]float64{
		`corsbridge_concurrency_in_flight{limit="client"}`:                  4,
		`corsbridge_concurrency_in_flight{limit="origin"}`:                  4,
		`corsbridge_concurrency_limited_total{limit="client"}`:              1,
		`corsbridge_concurrency_limited_total{limit="origin"}`:              1,
		`corsbridge_requests_total{class="4xx",code="concurrency_limited"}`: 2,
	})

	t.Run("a page that hangs up gives its place back", func(t *testing.T) {
		open[0].close() // 192.0.2.1 from a.example
		open = open[1:]
		waitInFlight(t, p, ratelimit.LimitClient, 3)
		hold(t, "192.0.2.1", "https://c.example")
		hold(t, "192.0.2.4", "https://a.example")
	})
	t.Run("a stream the upstream ends gives its place back", func(t *testing.T) {
		res, body := p.do(t, "GET", "/"+upstream.URL+"/events?end", nil, map[string]string{"Origin": "https://d.example", "Fly-Client-IP": "192.0.2.5"})
		if res.StatusCode != http.StatusOK || string(body) != "data: hello\n\n" {
			t.Fatalf("finished stream: %d %q", res.StatusCode, body)
		}
		waitInFlight(t, p, ratelimit.LimitClient, 5)
	})
	t.Run("a stream the upstream breaks off gives its place back", func(t *testing.T) {
		req, _ := http.NewRequest("GET", p.URL+"/"+upstream.URL+"/events?abort", nil)
		req.Header.Set("Origin", "https://d.example")
		req.Header.Set("Fly-Client-IP", "192.0.2.5")
		res, err := p.Client.Do(req)
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if err == nil {
			t.Fatal("the broken stream read as complete, want the client's response aborted")
		}
		waitInFlight(t, p, ratelimit.LimitClient, 5)
		waitInFlight(t, p, ratelimit.LimitOrigin, 5)
	})
	for _, s := range open {
		s.close()
	}
	open = nil
	waitInFlight(t, p, ratelimit.LimitClient, 0)
	waitInFlight(t, p, ratelimit.LimitOrigin, 0)
}

// TestHeldStreamsKeyCap: a request with an access key holds its place under
// the key, against the origin cap, instead of under its origin; the client
// cap still applies to it.
func TestHeldStreamsKeyCap(t *testing.T) {
	release := make(chan struct{})
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: hello\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	k, secret := newKey(t, "team", "", time.Time{}, nil, nil)
	parent := t.Context()
	p := newProxy(t, withAccess(t, access.Config{}, access.Data{Keys: []access.Key{k}}), func(d *Deps) {
		d.Config.TrustedProxyHeader = "Fly-Client-IP"
		d.RateLimit = &ratelimit.Config{ClientConcurrency: 2, OriginConcurrency: 1}
	})
	var open []*stream
	t.Cleanup(func() {
		for _, s := range open {
			s.close()
		}
	})
	for _, tt := range []struct {
		name, client, origin string
		keyed                bool
		refusal              string // "" admitted
	}{
		{"keyed", "192.0.2.1", "https://a.example", true, ""},
		{"keyed from another client: the key's cap", "192.0.2.2", "https://b.example", true, "for this key"},
		{"the origin itself, without the key", "192.0.2.2", "https://a.example", false, ""},
		{"the key's client, without the key", "192.0.2.1", "https://c.example", false, ""},
		{"keyed: the client cap still applies", "192.0.2.1", "https://d.example", true, "from this client"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(parent)
			req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/"+upstream.URL+"/events", nil)
			req.Header.Set("Origin", tt.origin)
			req.Header.Set("Fly-Client-IP", tt.client)
			if tt.keyed {
				req.Header.Set(HeaderKey, secret)
			}
			res, err := p.Client.Do(req)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			s := &stream{res: res, cancel: cancel}
			if res.StatusCode == http.StatusOK {
				open = append(open, s)
			}
			if tt.refusal == "" {
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want the stream", res.StatusCode)
				}
				return
			}
			if res.StatusCode == http.StatusOK {
				t.Fatalf("admitted, want 429 %q", tt.refusal)
			}
			body, _ := io.ReadAll(res.Body)
			s.close()
			checkErrorContract(t, res, body, http.StatusTooManyRequests, "concurrency_limited")
			if !strings.Contains(string(body), tt.refusal) {
				t.Errorf("body %s, want %q", body, tt.refusal)
			}
		})
	}
	if got := p.Server.limiter.InFlight(ratelimit.LimitKey); got != 1 {
		t.Errorf("InFlight(key) = %d, want 1", got)
	}
}
