package ratelimit

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher shares Redis round trips between concurrent requests. A script
// call made while no other is on the wire goes out at once, alone, exactly
// as before; calls made while one is on the wire queue, and when it returns
// the first of them sends the whole queue as one pipeline. Under load that is
// one write and one read system call, one connection from the pool and one
// wake-up of the network poller for a whole batch instead of for each
// request; a request still waits for at most the round trip in flight and its
// own. Every script call still runs on its own in Redis, atomically, so the
// counts are exactly those of separate calls.
//
// A call sent alone ends with its request's context, as before; a batch is
// sent without the requests' cancellation (bounded by the client's short
// timeouts instead): one request that ends must not fail the others' calls,
// which would look like Redis failing.
type batcher struct {
	client redis.UniversalClient
	pool   sync.Pool // of *scriptCall

	mu    sync.Mutex
	busy  bool          // a call or batch is on the wire
	queue []*scriptCall // waiting for it to return
	spare []*scriptCall // the queue's other buffer
}

// scriptCall is one request's script call: what to run, and its reply once
// done is signalled.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	lead   bool          // sent in done: this call sends the queue
	done   chan struct{} // buffered: the signal never blocks its sender
}

func newBatcher(client redis.UniversalClient) *batcher {
	b := &batcher{client: client}
	b.pool.New = func() any { return &scriptCall{done: make(chan struct{}, 1)} }
	return b
}

// run runs script with keys and args, sharing the round trip with
// concurrent calls (see batcher), and returns its reply as Int64Slice does.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args []any) ([]int64, error) {
	b.mu.Lock()
	if !b.busy {
		b.busy = true
		b.mu.Unlock()
		res, err := script.Run(ctx, b.client, keys, args...).Int64Slice()
		b.handOver()
		return res, err
	}
	c := b.pool.Get().(*scriptCall)
	c.script, c.keys, c.args = script, keys, args
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	<-c.done
	if c.lead {
		b.sendQueue(ctx)
	}
	res, err := c.cmd.Int64Slice()
	*c = scriptCall{done: c.done}
	b.pool.Put(c)
	return res, err
}

// handOver ends a round trip: the first queued call, if any, sends the
// queue next; else nothing is on the wire any more.
func (b *batcher) handOver() {
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.busy = false
		b.mu.Unlock()
		return
	}
	next := b.queue[0]
	b.mu.Unlock()
	next.lead = true
	next.done <- struct{}{}
}

// sendQueue sends every queued call in one pipeline, then hands over to the
// calls queued meanwhile and signals the ones it sent. Calls the pipeline
// finds without a loaded script (NOSCRIPT, after a SCRIPT FLUSH or a
// restart) are sent again with their script's body, as Script.Run does.
func (b *batcher) sendQueue(ctx context.Context) {
	b.mu.Lock()
	batch := b.queue
	b.queue, b.spare = b.spare[:0], nil
	b.mu.Unlock()

	ctx = context.WithoutCancel(ctx)
	pipe := b.client.Pipeline()
	for _, c := range batch {
		c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each call's error is in its own cmd
	var reload []*scriptCall
	for _, c := range batch {
		if redis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
			reload = append(reload, c)
		}
	}
	if len(reload) > 0 {
		for _, c := range reload {
			c.cmd = c.script.Eval(ctx, pipe, c.keys, c.args...)
		}
		_, _ = pipe.Exec(ctx)
	}

	b.handOver()
	for _, c := range batch[1:] { // batch[0] is the caller: it reads its own reply
		c.lead = false
		c.done <- struct{}{}
	}
	b.mu.Lock()
	if b.spare == nil {
		clear(batch)
		b.spare = batch[:0]
	}
	b.mu.Unlock()
}
