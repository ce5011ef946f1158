package access

import (
	"context"
	"errors"
	"slices"
	"time"
)

// watch polls the store's version every poll interval and reloads when it
// changes, or every resync interval regardless. It returns when ctx ends.
func (g *Guard) watch(ctx context.Context) {
	defer close(g.done)
	t := time.NewTicker(g.poll)
	defer t.Stop()
	lastFull := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		full := time.Since(lastFull) >= g.resync
		if g.reload(ctx, full) {
			lastFull = time.Now()
		}
	}
}

// reload asks the store for its version and loads it when it moved (or
// when full); it reports whether it loaded. On an error the current state
// stays in force.
func (g *Guard) reload(ctx context.Context, full bool) bool {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	old := g.state.Load()
	if !full && old.loaded {
		v, err := g.store.Version(ctx)
		if err != nil {
			g.unavailable(ctx, err)
			return false
		}
		if v == old.version {
			g.available()
			return false
		}
	}
	d, v, err := g.store.Load(ctx)
	if err != nil {
		g.unavailable(ctx, err)
		return false
	}
	g.available()
	st := compileState(d, v, g.keyring)
	if !slices.Equal(st.invalid, old.invalid) {
		for _, why := range st.invalid {
			g.log.Error("access: skipping an invalid entry in the key store", "error", why)
		}
	}
	g.state.Store(st)
	logChanges(g.log, old, st)
	return true
}

func (g *Guard) unavailable(ctx context.Context, err error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return // shutting down: nothing to report
	}
	if !g.degraded.CompareAndSwap(false, true) {
		return
	}
	if g.state.Load().loaded {
		g.log.Warn("access: key store unavailable, serving with the last known keys and blocks", "error", err)
	} else {
		g.log.Warn("access: key store unavailable, no keys or blocks until it answers", "error", err)
	}
}

func (g *Guard) available() {
	if g.degraded.CompareAndSwap(true, false) {
		g.log.Info("access: key store available again")
	}
}
