package usage

import (
	"context"
	"slices"
	"sync"
	"time"
)

// memStore keeps the figures in this process only: an instance with neither
// Redis nor a keys file. They end with the process.
type memStore struct {
	mu sync.Mutex
	t  tally
}

func (m *memStore) backend() string { return "memory" }

func (m *memStore) add(_ context.Context, t tally, now time.Time) (tally, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t.merge(t, now)
	return nil, nil
}

func (m *memStore) read(_ context.Context, names []string, days []date) (tally, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(m.t, names, days), nil
}

// pick copies the entries of t on days for names (nil: every name).
func pick(t tally, names []string, days []date) tally {
	out := tally{}
	for e, c := range t {
		if slices.Contains(days, e.day) && (names == nil || slices.Contains(names, e.name)) {
			out.add(e, *c)
		}
	}
	return out
}
