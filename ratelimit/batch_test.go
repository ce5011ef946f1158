package ratelimit

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// holdFirst holds the first command a client sends until release is
// closed, so the calls made meanwhile queue behind it; it notes the script
// calls each round trip carried (not a new connection's HELLO).
type holdFirst struct {
	held    atomic.Bool
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	sizes   []int // commands per round trip, in order
	// beforePipeline, if set, runs before the first pipeline is sent.
	beforePipeline func()
}

func (h *holdFirst) DialHook(next redis.DialHook) redis.DialHook { return next }

func newHoldFirst() *holdFirst {
	return &holdFirst{entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.held.CompareAndSwap(false, true) {
			close(h.entered)
			<-h.release
		}
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			h.note(1)
		}
		return next(ctx, cmd)
	}
}

func (h *holdFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if f := h.beforePipeline; f != nil {
			h.beforePipeline = nil // pipelines are sent one at a time
			f()
		}
		h.note(len(cmds))
		return next(ctx, cmds)
	}
}

func (h *holdFirst) note(n int) {
	h.mu.Lock()
	h.sizes = append(h.sizes, n)
	h.mu.Unlock()
}

func (b *batcher) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// TestQueuedCallsShareOneRoundTrip: calls made while another is on the wire
// go out together as one pipeline when it returns, and each gets its own
// script's answer: every count from 1 to n+1 exactly once, as separate calls
// would. With the script cache flushed before the batch (a restarted
// Redis), the batch sends the script's body and still counts each call once.
func TestQueuedCallsShareOneRoundTrip(t *testing.T) {
	srv := redistest.Dedicated(t)
	for _, flush := range []bool{false, true} {
		name := "scripts loaded"
		if flush {
			name = "script cache flushed"
		}
		t.Run(name, func(t *testing.T) {
			rdb := testClient(t, srv.URL())
			c := NewRedisCounter(rdb)
			if err := c.script.Load(context.Background(), rdb).Err(); err != nil {
				t.Fatal(err)
			}
			hook := newHoldFirst()
			rdb.AddHook(hook)
			key, l, now := uniqueKey("batch"), Limit{Requests: 1000, Window: time.Hour}, time.Now()
			const queued = 20
			counts := make(chan int64, queued+1)
			var wg sync.WaitGroup
			take := func() {
				d, err := c.Take(context.Background(), key, now, l)
				if err != nil {
					t.Error(err)
					return
				}
				counts <- int64(l.Requests - d.Remaining)
			}
			wg.Go(take)
			<-hook.entered // the first call is on the wire, alone
			for range queued {
				wg.Go(take)
			}
			waitFor(t, func() bool { return c.batch.queued() == queued })
			if flush {
				other := testClient(t, srv.URL())
				hook.beforePipeline = func() {
					if err := other.ScriptFlush(context.Background()).Err(); err != nil {
						t.Error(err)
					}
				}
			}
			close(hook.release)
			wg.Wait()
			close(counts)
			var got []int64
			for n := range counts {
				got = append(got, n)
			}
			slices.Sort(got)
			for i, n := range got {
				if n != int64(i+1) {
					t.Fatalf("counts %v, want 1..%d once each", got, queued+1)
				}
			}
			if len(got) != queued+1 {
				t.Fatalf("%d answers, want %d", len(got), queued+1)
			}
			// Alone: EVALSHA; then the queue in one pipeline (and once
			// more with the script's body after the flush).
			want := []int{1, queued}
			if flush {
				want = []int{1, queued, queued}
			}
			if !slices.Equal(hook.sizes, want) {
				t.Errorf("commands per round trip %v, want %v", hook.sizes, want)
			}
			if c.batch.queued() != 0 || c.batch.busy {
				t.Errorf("batcher left busy=%v with %d queued", c.batch.busy, c.batch.queued())
			}
		})
	}
}

// TestConcurrentCallsAdmitExactlyTheLimit: however the calls are batched,
// the limit admits exactly its number of requests, and Redis holds exactly
// that count.
func TestConcurrentCallsAdmitExactlyTheLimit(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	c := NewRedisCounter(rdb)
	key, l, now := uniqueKey("batch-limit"), Limit{Requests: 50, Window: time.Hour}, time.Now()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				d, err := c.Take(context.Background(), key, now, l)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != int64(l.Requests) {
		t.Errorf("%d of 200 admitted, want exactly %d", got, l.Requests)
	}
	idx, _ := window(now, l.Window)
	if got, err := rdb.Get(context.Background(), counterKey(key, l.Window, idx)).Int(); err != nil || got != l.Requests {
		t.Errorf("Redis holds %d (%v), want %d", got, err, l.Requests)
	}
	if c.batch.busy || c.batch.queued() != 0 {
		t.Errorf("batcher left busy=%v with %d queued", c.batch.busy, c.batch.queued())
	}
}

// waitFor polls cond until it holds, for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
