package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Buffering of the log. slog's JSON and text handlers hold their mutex while
// they write, so with one write system call per request line every request
// waits for every other one's write: half the lock waiting under load
// (docs/performance.md). Lines are gathered here instead and written in
// batches.
const (
	logBufferSize    = 64 << 10
	logFlushInterval = 100 * time.Millisecond
)

// logWriter buffers whole log lines for w and writes them at the latest
// logFlushInterval after the first line of a batch, when the buffer is full,
// on Flush, and on Close. No goroutine waits while nothing is logged: the
// flush is a timer, armed by the first line after a flush. A failed write
// drops its batch and the next one tries again (a sticky error would silence
// the log for good). After Close, lines go straight to w.
//
// The price: a crash loses at most the last logFlushInterval of lines.
// Warnings and errors are flushed at once by logFlusher, and run flushes its
// start-up and shutdown lines itself.
type logWriter struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte
	timer   *time.Timer
	pending bool // the timer is armed
	closed  bool
}

func newLogWriter(w io.Writer) *logWriter {
	lw := &logWriter{w: w, buf: make([]byte, 0, logBufferSize)}
	lw.timer = time.AfterFunc(time.Hour, func() { _ = lw.Flush() })
	lw.timer.Stop()
	return lw
}

// Write copies p (slog reuses it) into the buffer. A handler writes one
// whole line per call, so batches never split a line.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return lw.w.Write(p)
	}
	if len(lw.buf)+len(p) > cap(lw.buf) {
		lw.flushLocked()
		if len(p) > cap(lw.buf) {
			return lw.w.Write(p)
		}
	}
	lw.buf = append(lw.buf, p...)
	if !lw.pending {
		lw.pending = true
		lw.timer.Reset(logFlushInterval)
	}
	return len(p), nil
}

// Flush writes what is buffered now.
func (lw *logWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.flushLocked()
}

func (lw *logWriter) flushLocked() error {
	lw.pending = false
	lw.timer.Stop()
	if len(lw.buf) == 0 {
		return nil
	}
	_, err := lw.w.Write(lw.buf)
	lw.buf = lw.buf[:0]
	return err
}

// Close flushes and stops the timer; later lines are written unbuffered.
func (lw *logWriter) Close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.closed = true
	return lw.flushLocked()
}

// logFlusher flushes the log after every record at Warn or above, so
// problems show up at once, not up to logFlushInterval later.
type logFlusher struct {
	slog.Handler
	out *logWriter
}

func (h logFlusher) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.out.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h logFlusher) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logFlusher{h.Handler.WithAttrs(attrs), h.out}
}

func (h logFlusher) WithGroup(name string) slog.Handler {
	return logFlusher{h.Handler.WithGroup(name), h.out}
}
