package main

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/logbuf"
)

func TestLogWriter(t *testing.T) {
	t.Run("info lines wait for the flush interval", func(t *testing.T) {
		out := &logbuf.Buffer{}
		lw := newLogWriter(out)
		defer lw.Close()
		logger := slog.New(logFlusher{Handler: slog.NewJSONHandler(lw, nil), out: lw})
		logger.Info("first")
		logger.Info("second")
		if got := out.String(); got != "" {
			t.Fatalf("written before the flush: %q", got)
		}
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(out.String(), "\n") < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("not flushed after 5s: %q", out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := out.String(); strings.Index(got, "first") > strings.Index(got, "second") {
			t.Errorf("lines out of order: %q", got)
		}
	})
	t.Run("warnings flush at once, with what came before", func(t *testing.T) {
		out := &logbuf.Buffer{}
		lw := newLogWriter(out)
		defer lw.Close()
		logger := slog.New(logFlusher{Handler: slog.NewTextHandler(lw, nil), out: lw}).With("instance", "a")
		logger.Info("before")
		logger.WithGroup("g").Warn("trouble", "n", 1)
		if got := out.String(); !strings.Contains(got, "msg=before") || !strings.Contains(got, "msg=trouble instance=a g.n=1") {
			t.Errorf("after a warning: %q", got)
		}
	})
	t.Run("close flushes, later lines are unbuffered", func(t *testing.T) {
		out := &logbuf.Buffer{}
		lw := newLogWriter(out)
		_, _ = lw.Write([]byte("one\n"))
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "one\n" {
			t.Errorf("after Close: %q", got)
		}
		_, _ = lw.Write([]byte("two\n"))
		if got := out.String(); got != "one\ntwo\n" {
			t.Errorf("a write after Close: %q", got)
		}
	})
	t.Run("a full buffer is written, a line larger than it passes through", func(t *testing.T) {
		out := &logbuf.Buffer{}
		lw := newLogWriter(out)
		defer lw.Close()
		line := strings.Repeat("x", 1000) + "\n"
		n := logBufferSize / len(line)
		for range n + 1 {
			_, _ = lw.Write([]byte(line))
		}
		if got := strings.Count(out.String(), "\n"); got != n {
			t.Errorf("%d lines written when the buffer filled, want %d", got, n)
		}
		huge := strings.Repeat("y", logBufferSize+1)
		_, _ = lw.Write([]byte(huge))
		if got := out.String(); !strings.HasSuffix(got, line+huge) || strings.Count(got, "\n") != n+1 {
			t.Errorf("a large line did not follow the buffered one")
		}
	})
	t.Run("a failed write does not silence the log", func(t *testing.T) {
		out := &flakyWriter{fail: true}
		lw := newLogWriter(out)
		defer lw.Close()
		_, _ = lw.Write([]byte("lost\n"))
		if err := lw.Flush(); err == nil {
			t.Error("Flush hid the write error")
		}
		out.fail = false
		_, _ = lw.Write([]byte("kept\n"))
		if err := lw.Flush(); err != nil || out.buf.String() != "kept\n" {
			t.Errorf("after a failed write: %v %q", err, out.buf.String())
		}
	})
}

type flakyWriter struct {
	fail bool
	buf  strings.Builder
}

func (w *flakyWriter) Write(p []byte) (int, error) {
	if w.fail {
		return 0, errors.New("disk full")
	}
	return w.buf.Write(p)
}
