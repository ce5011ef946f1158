package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// kind is one sort of request in the mix, with what counts as expected.
type kind struct {
	name   string
	weight int
	send   func(ctx context.Context, c *http.Client, base, upstream string, worker int) (outcome string, err error)
}

// The mix. Normal origins are exempt from the origin limit; the greedy one
// is not, so it draws 429s through the shared Redis counter.
var kinds = []kind{
	{"small", 40, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		return expect(ctx, c, "GET", base+"/"+up+"/small", normalOrigin(w), nil, 200, 1024)
	}},
	{"post", 10, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		return expect(ctx, c, "POST", base+"/"+up+"/small", normalOrigin(w), bytes.Repeat([]byte("p"), 4096), 200, 1024)
	}},
	{"large", 10, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		return expect(ctx, c, "GET", base+"/"+up+"/large", normalOrigin(w), nil, 200, largeSize)
	}},
	{"stream", 5, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		return expectStream(ctx, c, base+"/"+up+"/stream", normalOrigin(w))
	}},
	{"upstream-error", 10, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		return expect(ctx, c, "GET", base+"/"+up+"/error", normalOrigin(w), nil, 500, -1)
	}},
	{"forbidden", 10, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		return expect(ctx, c, "GET", base+"/http://10.0.0.1/", normalOrigin(w), nil, 403, -1)
	}},
	{"greedy", 15, func(ctx context.Context, c *http.Client, base, up string, w int) (string, error) {
		outcome, err := expect(ctx, c, "GET", base+"/"+up+"/small", "https://greedy.example", nil, 200, 1024)
		var se *statusError
		if errors.As(err, &se) && se.got == 429 && se.code == "rate_limited" {
			return "429 rate_limited", nil
		}
		return outcome, err
	}},
}

func normalOrigin(worker int) string { return fmt.Sprintf("https://w%d.normal.example", worker) }

type statusError struct {
	got  int
	code string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d %s", e.got, e.code) }

// send makes one request from origin; a failure is a "transport error".
func send(ctx context.Context, c *http.Client, method, url, origin string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Origin", origin)
	return c.Do(req)
}

func expect(ctx context.Context, c *http.Client, method, url, origin string, body []byte, status, size int) (string, error) {
	res, err := send(ctx, c, method, url, origin, body)
	if err != nil {
		return "transport error", err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	code := res.Header.Get("X-Corsbridge-Error")
	outcome := fmt.Sprintf("%d %s", res.StatusCode, code)
	switch {
	case err != nil:
		return "aborted body", err
	case res.StatusCode != status:
		return outcome, &statusError{res.StatusCode, code}
	case size >= 0 && n != int64(size):
		return "short body", fmt.Errorf("%d bytes, want %d", n, size)
	case res.Header.Get("Access-Control-Allow-Origin") == "":
		return "no CORS header", errors.New("missing Access-Control-Allow-Origin")
	}
	return strings.TrimSpace(outcome), nil
}

func expectStream(ctx context.Context, c *http.Client, url, origin string) (string, error) {
	res, err := send(ctx, c, "GET", url, origin, nil)
	if err != nil {
		return "transport error", err
	}
	defer res.Body.Close()
	events := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events++
		}
	}
	if err := sc.Err(); err != nil {
		return "aborted stream", err
	}
	if res.StatusCode != 200 || events != 10 {
		return fmt.Sprintf("stream %d with %d events", res.StatusCode, events), errors.New("incomplete stream")
	}
	return "200 stream", nil
}

func worker(ctx context.Context, id int, c *http.Client, instances []*instance, upstream string, st *stats) {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	rng := rand.New(rand.NewPCG(uint64(id), 42))
	for i := 0; ctx.Err() == nil; i++ {
		pick := rng.IntN(total)
		k := kinds[0]
		for _, candidate := range kinds {
			if pick < candidate.weight {
				k = candidate
				break
			}
			pick -= candidate.weight
		}
		start := time.Now()
		outcome, err := k.send(ctx, c, instances[i%len(instances)].base, upstream, id)
		if ctx.Err() != nil {
			return // the soak ended mid-request: not a result
		}
		st.record(k.name, outcome, err, time.Since(start))
	}
}

// stats collects outcomes and latencies.
type stats struct {
	mu         sync.Mutex
	start      time.Time
	restartAt  time.Duration
	outcomes   map[string]int // kind: outcome
	unexpected map[string]int // kind: error
	latencies  map[string][]time.Duration
}

func newStats() *stats {
	return &stats{start: time.Now(), outcomes: map[string]int{}, unexpected: map[string]int{}, latencies: map[string][]time.Duration{}}
}

func (s *stats) record(kind, outcome string, err error, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.unexpected[kind+": "+outcome+": "+err.Error()]++
		return
	}
	s.outcomes[kind+": "+outcome]++
	s.latencies[kind] = append(s.latencies[kind], d)
}

func (s *stats) markRestart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restartAt = time.Since(s.start)
}

func (s *stats) unexpectedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.unexpected {
		n += c
	}
	return n
}

func (s *stats) report(out io.Writer, instances []*instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := time.Since(s.start)
	total := 0
	for _, c := range s.outcomes {
		total += c
	}
	for _, c := range s.unexpected {
		total += c
	}
	fmt.Fprintf(out, "\nrequests: %d in %v (%.0f/s); Redis restarted at %v\n", total, elapsed.Round(time.Second),
		float64(total)/elapsed.Seconds(), s.restartAt.Round(time.Second))
	fmt.Fprintln(out, "expected outcomes:")
	for _, k := range sortedKeys(s.outcomes) {
		fmt.Fprintf(out, "  %-40s %d\n", k, s.outcomes[k])
	}
	fmt.Fprintln(out, "unexpected errors:")
	if len(s.unexpected) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, k := range sortedKeys(s.unexpected) {
		fmt.Fprintf(out, "  %-60s %d\n", k, s.unexpected[k])
	}
	// Streams take 200 ms by design (ten events 20 ms apart), so latency is
	// reported per kind.
	fmt.Fprintln(out, "latency by kind (expected outcomes):")
	for _, k := range kinds {
		l := s.latencies[k.name]
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		q := func(p float64) time.Duration { return l[int(p*float64(len(l)-1))].Round(time.Microsecond) }
		fmt.Fprintf(out, "  %-16s p50 %-10v p99 %-10v max %v\n", k.name, q(0.5), q(0.99), l[len(l)-1].Round(time.Microsecond))
	}
	for i, inst := range instances {
		inst.mu.Lock()
		fmt.Fprintf(out, "instance %d: peak RSS %.1f MiB, goroutines %d at the end (peak %d)\n",
			i, float64(inst.peakRSS)/(1<<20), inst.goroutines, inst.peakGoroutines)
		inst.mu.Unlock()
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
