// Package usage is the ledger of what each access key and token used: per
// credential name and UTC day, the requests it made, the response body bytes
// written to its clients, and its refusals by error code.
//
// Recording is off the request's path: Record adds to a tally in memory
// under one short lock, and a background loop hands the tally to the store
// every flush interval (and once more on Close). The store is Redis when the
// instances share one (one pipelined round trip per flush, hashes that
// expire after Retention), else a usage file beside the keys file, else
// memory only. Readers see the store plus this instance's tally not yet
// flushed, so one instance's figures are exact at once and several
// instances' within a flush interval.
//
// The package knows nothing of how requests are served or who may make
// them: server decides what is recorded, and cmd/corsbridge reads it back
// for `corsbridge admin usage`.
package usage

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults.
const (
	// Retention is how long a day's figures are kept: a little over a
	// year, so this month can be compared with the same one last year.
	Retention = 400 * 24 * time.Hour
	// DefaultRedisFlush and DefaultFileFlush are how often the tally is
	// handed to the store: Redis takes one round trip a second; a file
	// is rewritten whole, so less often.
	DefaultRedisFlush = time.Second
	DefaultFileFlush  = 5 * time.Second
	// flushTimeout bounds one flush, and closeTimeout the last one.
	flushTimeout = 2 * time.Second
	closeTimeout = 5 * time.Second
)

// store is where a ledger's figures live. add adds a tally; when it fails,
// it returns what it could not add (nil: nothing was added, the whole
// tally), which the ledger keeps for the next flush. read returns the
// figures of the given names (nil: every name) on the given days.
type store interface {
	add(ctx context.Context, t tally, now time.Time) (failed tally, err error)
	read(ctx context.Context, names []string, days []date) (tally, error)
	backend() string
}

// Config says where a Ledger keeps its figures: Redis, else File, else
// memory.
type Config struct {
	Redis redis.UniversalClient
	// File is the usage file (the keys file's name plus ".usage.json"),
	// used when Redis is nil.
	File string
	// FlushInterval: zero is DefaultRedisFlush with Redis, DefaultFileFlush
	// with a file; memory needs none but flushes at DefaultRedisFlush.
	FlushInterval time.Duration
	// Logger gets one warning when a flush fails and one line when flushes
	// work again; nil discards.
	Logger *slog.Logger
}

// Ledger records usage and reads it back. Its methods are safe for
// concurrent use.
type Ledger struct {
	store store
	log   *slog.Logger
	every time.Duration
	mu    sync.Mutex // guards pending
	pend  tally
	// flushM is held by a flush, and shared by readers: a tally is in the
	// store or pending, never both nor neither. Readers do not wait on
	// each other.
	flushM sync.RWMutex
	failed bool // the last flush failed; guarded by flushM

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New opens the ledger described by cfg and starts its flush loop, which
// Close stops. A usage file that exists but does not parse is an error:
// the next flush would otherwise replace what it held.
func New(cfg Config) (*Ledger, error) {
	l := &Ledger{log: cfg.Logger, every: cfg.FlushInterval, pend: tally{}, stop: make(chan struct{}), done: make(chan struct{})}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Redis != nil:
		l.store = &redisStore{rdb: cfg.Redis}
		if l.every == 0 {
			l.every = DefaultRedisFlush
		}
	case cfg.File != "":
		fs := &fileStore{path: cfg.File}
		if _, err := fs.load(); err != nil {
			return nil, err
		}
		l.store = fs
		if l.every == 0 {
			l.every = DefaultFileFlush
		}
	default:
		l.store = &memStore{t: tally{}}
		if l.every == 0 {
			l.every = DefaultRedisFlush
		}
	}
	if l.every < 0 {
		return nil, errors.New("usage: the flush interval must not be negative")
	}
	go l.loop()
	return l, nil
}

// Backend names where the figures live: redis, file or memory.
func (l *Ledger) Backend() string { return l.store.backend() }

// Record adds one finished request of name at the time at: bytes written to
// its client and, when it was refused, the error code ("" when it was not).
// It only takes a lock and adds to a map.
func (l *Ledger) Record(name string, at time.Time, bytes int64, code string) {
	e := entry{name, dateOf(at)}
	l.mu.Lock()
	c := l.pend[e]
	if c == nil {
		c = &Counts{}
		l.pend[e] = c
	}
	c.Requests++
	c.Bytes += bytes
	if code != "" {
		if c.Refused == nil {
			c.Refused = map[string]int64{}
		}
		c.Refused[code]++
	}
	l.mu.Unlock()
}

func (l *Ledger) loop() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			_ = l.Flush(ctx)
			cancel()
		}
	}
}

// Flush hands the tally to the store now. What the store could not take
// stays pending for the next flush.
func (l *Ledger) Flush(ctx context.Context) error {
	l.flushM.Lock()
	defer l.flushM.Unlock()
	l.mu.Lock()
	batch := l.pend
	if len(batch) == 0 {
		l.mu.Unlock()
		return nil
	}
	l.pend = tally{}
	l.mu.Unlock()

	failed, err := l.store.add(ctx, batch, time.Now())
	if err == nil {
		if l.failed {
			l.failed = false
			l.log.Info("usage: recording works again", "store", l.store.backend())
		}
		return nil
	}
	if failed == nil {
		failed = batch
	}
	l.mu.Lock()
	for e, c := range failed {
		l.pend.add(e, *c)
	}
	l.mu.Unlock()
	if !l.failed {
		l.failed = true
		l.log.Warn("usage: cannot record usage; keeping it in memory and retrying", "store", l.store.backend(), "error", err)
	}
	return err
}

// Close stops the flush loop and flushes what is pending, once.
func (l *Ledger) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		err = l.Flush(ctx)
	})
	return err
}

// Usage returns name's figures for the days last days up to now's day
// (UTC), today included, oldest first; a day without use has zero counts.
func (l *Ledger) Usage(ctx context.Context, name string, days int, now time.Time) ([]Day, error) {
	if days < 1 {
		return nil, errors.New("usage: days must be at least 1")
	}
	return l.Range(ctx, name, now.AddDate(0, 0, -(days-1)), now)
}

// Range returns name's figures for every day from first to last (UTC),
// inclusive, oldest first.
func (l *Ledger) Range(ctx context.Context, name string, first, last time.Time) ([]Day, error) {
	days := dayRange(first, last)
	t, err := l.read(ctx, []string{name}, days)
	if err != nil {
		return nil, err
	}
	out := make([]Day, 0, len(days))
	for _, d := range days {
		day := Day{Date: d.time()}
		if c := t[entry{name, d}]; c != nil {
			day.Counts = *c
		}
		out = append(out, day)
	}
	return out, nil
}

// All returns the figures of every name used on the days from first to last
// (UTC), by name, each oldest first and only the days with use.
func (l *Ledger) All(ctx context.Context, first, last time.Time) (map[string][]Day, error) {
	days := dayRange(first, last)
	t, err := l.read(ctx, nil, days)
	if err != nil {
		return nil, err
	}
	out := map[string][]Day{}
	for e, c := range t {
		out[e.name] = append(out[e.name], Day{Date: e.day.time(), Counts: *c})
	}
	for name := range maps.Keys(out) {
		slices.SortFunc(out[name], func(a, b Day) int { return a.Date.Compare(b.Date) })
	}
	return out, nil
}

// read is the store's figures plus the pending tally, under flushM so that
// a tally being flushed is counted exactly once.
func (l *Ledger) read(ctx context.Context, names []string, days []date) (tally, error) {
	l.flushM.RLock()
	defer l.flushM.RUnlock()
	t, err := l.store.read(ctx, names, days)
	if err != nil {
		return nil, err
	}
	wantDay := make(map[date]bool, len(days))
	for _, d := range days {
		wantDay[d] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for e, c := range l.pend {
		if wantDay[e.day] && (names == nil || slices.Contains(names, e.name)) {
			t.add(e, *c)
		}
	}
	return t, nil
}
