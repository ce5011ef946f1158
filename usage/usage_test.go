package usage

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

var (
	day1 = time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)
	day2 = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
)

type rec struct {
	at    time.Time
	bytes int64
	code  string
}

// The figures every backend must give back for the same records.
var records = []rec{
	{day1, 100, ""},
	{day1, 0, "rate_limited"},
	{day2, 10, ""},
	{day2, 20, ""},
	{day2, 30, "rate_limited"},
	{day2, 0, "quota_exceeded"},
	{day2, 5, "upstream_timeout"},
}

var wantDays = []Day{
	{Date: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
	{Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Counts: Counts{Requests: 2, Bytes: 100, Refused: map[string]int64{"rate_limited": 1}}},
	{Date: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Counts: Counts{Requests: 5, Bytes: 65,
		Refused: map[string]int64{"rate_limited": 1, "quota_exceeded": 1, "upstream_timeout": 1}}},
}

// TestLedgerBackends: memory, file and Redis aggregate the same records
// into the same figures, split at midnight UTC, before and after a flush.
func TestLedgerBackends(t *testing.T) {
	rdb, _ := testClient(t, sharedRedisURL)
	backends := []struct {
		name string
		cfg  Config
	}{
		{"memory", Config{}},
		{"file", Config{File: filepath.Join(t.TempDir(), "keys.json"+FileSuffix)}},
		{"redis", Config{Redis: rdb}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.cfg.FlushInterval = time.Hour // only explicit flushes
			l := newLedger(t, b.cfg)
			name, other := uniqueName("team"), uniqueName("other")
			for _, r := range records {
				l.Record(name, r.at, r.bytes, r.code)
			}
			l.Record(other, day2, 1, "")
			if l.Backend() != b.name {
				t.Errorf("Backend() = %q", l.Backend())
			}
			for _, phase := range []string{"pending", "flushed"} {
				got, err := l.Usage(context.Background(), name, 3, day2.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, wantDays) {
					t.Errorf("%s: Usage = %+v\nwant %+v", phase, got, wantDays)
				}
				all, err := l.All(context.Background(), day2, day2)
				if err != nil {
					t.Fatal(err)
				}
				if len(all[name]) != 1 || all[name][0].Requests != 5 || len(all[other]) != 1 || all[other][0].Bytes != 1 {
					t.Errorf("%s: All = %+v", phase, all)
				}
				if err := l.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestRedisLayout: one pipelined round trip per flush, the documented hash
// fields, the day's name set, and an expiry on both.
func TestRedisLayout(t *testing.T) {
	rdb, rt := testClient(t, sharedRedisURL)
	l := newLedger(t, Config{Redis: rdb, FlushInterval: time.Hour})
	name := uniqueName("layout")
	// A first flush dials the connection the measured one reuses.
	l.Record(uniqueName("warm"), day2, 0, "")
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		l.Record(name, r.at, r.bytes, r.code)
	}
	before := rt.n.Load()
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load() - before; n != 1 {
		t.Errorf("a flush took %d round trips, want 1", n)
	}
	ctx := context.Background()
	h, err := rdb.HGetAll(ctx, "corsbridge:usage:{"+name+"}:20261202").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"requests": "5", "bytes": "65", "refused:rate_limited": "1", "refused:quota_exceeded": "1", "refused:upstream_timeout": "1"}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("hash = %v, want %v", h, want)
	}
	if ok, _ := rdb.SIsMember(ctx, "corsbridge:usage:names:20261202", name).Result(); !ok {
		t.Error("name missing from the day's set")
	}
	for _, key := range []string{"corsbridge:usage:{" + name + "}:20261202", "corsbridge:usage:names:20261202"} {
		ttl := rdb.TTL(ctx, key).Val()
		if ttl < Retention-time.Minute || ttl > Retention {
			t.Errorf("TTL of %s = %v, want about %v", key, ttl, Retention)
		}
	}
}

// TestFlushLoopAndClose: the loop flushes on its own, and Close flushes
// what is left, so a second ledger reading the store sees it all.
func TestFlushLoopAndClose(t *testing.T) {
	rdb, _ := testClient(t, sharedRedisURL)
	t.Run("loop", func(t *testing.T) {
		l := newLedger(t, Config{Redis: rdb, FlushInterval: 20 * time.Millisecond})
		reader := newLedger(t, Config{Redis: rdb, FlushInterval: time.Hour})
		name := uniqueName("loop")
		l.Record(name, day2, 7, "")
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := reader.Usage(context.Background(), name, 1, day2)
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Requests == 1 && got[0].Bytes == 7 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not flushed within 5s: %+v", got)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("close", func(t *testing.T) {
		l, err := New(Config{Redis: rdb, FlushInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		name := uniqueName("close")
		l.Record(name, day2, 3, "key_forbidden")
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		reader := newLedger(t, Config{Redis: rdb, FlushInterval: time.Hour})
		got, err := reader.Usage(context.Background(), name, 1, day2)
		if err != nil {
			t.Fatal(err)
		}
		if want := (Counts{Requests: 1, Bytes: 3, Refused: map[string]int64{"key_forbidden": 1}}); !reflect.DeepEqual(got[0].Counts, want) {
			t.Errorf("after Close: %+v, want %+v", got[0].Counts, want)
		}
	})
}

// TestLedgersSumInRedis: instances sharing a Redis add up exactly, from
// many goroutines.
func TestLedgersSumInRedis(t *testing.T) {
	rdb, _ := testClient(t, sharedRedisURL)
	a := newLedger(t, Config{Redis: rdb, FlushInterval: 5 * time.Millisecond})
	b := newLedger(t, Config{Redis: rdb, FlushInterval: 5 * time.Millisecond})
	name := uniqueName("sum")
	var wg sync.WaitGroup
	for _, l := range []*Ledger{a, b} {
		for range 4 {
			wg.Go(func() {
				for i := range 250 {
					code := ""
					if i%10 == 0 {
						code = "rate_limited"
					}
					l.Record(name, day2, 2, code)
				}
			})
		}
	}
	wg.Wait()
	for _, l := range []*Ledger{a, b} {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	reader := newLedger(t, Config{Redis: rdb})
	got, err := reader.Usage(context.Background(), name, 1, day2)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Requests: 2000, Bytes: 4000, Refused: map[string]int64{"rate_limited": 200}}); !reflect.DeepEqual(got[0].Counts, want) {
		t.Errorf("got %+v, want %+v", got[0].Counts, want)
	}
}

// TestFailedFlushIsKept: while Redis is down the figures stay pending, and
// reach Redis once it is back, counted once.
func TestFailedFlushIsKept(t *testing.T) {
	srv := redistest.Dedicated(t)
	rdb, _ := testClient(t, srv.URL())
	l := newLedger(t, Config{Redis: rdb, FlushInterval: time.Hour})
	name := uniqueName("down")
	l.Record(name, day2, 9, "")
	srv.Stop()
	if err := l.Flush(context.Background()); err == nil {
		t.Fatal("Flush with Redis stopped succeeded")
	}
	l.Record(name, day2, 1, "rate_limited")
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := rdb.HGetAll(context.Background(), redisKey(name, 20261202)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"requests": "2", "bytes": "10", "refused:rate_limited": "1"}; !reflect.DeepEqual(h, want) {
		t.Errorf("hash = %v, want %v", h, want)
	}
}

// TestUsageFile: the file round-trips across ledgers (a restart), two
// ledgers on one file add up, and a file that does not parse stops New.
func TestUsageFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json"+FileSuffix)
	a := newLedger(t, Config{File: path, FlushInterval: time.Hour})
	b := newLedger(t, Config{File: path, FlushInterval: time.Hour})
	for range 3 {
		a.Record("web-team", day2, 10, "")
		b.Record("web-team", day2, 1, "rate_limited")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	restarted := newLedger(t, Config{File: path})
	got, err := restarted.Usage(context.Background(), "web-team", 1, day2)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Requests: 6, Bytes: 33, Refused: map[string]int64{"rate_limited": 3}}); !reflect.DeepEqual(got[0].Counts, want) {
		t.Errorf("got %+v, want %+v", got[0].Counts, want)
	}

	if err := os.WriteFile(path, []byte(`{"days": {"2026-12-02": {}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{File: path}); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("New on a broken file: %v", err)
	}
}

// TestRetention: a file flush drops days older than Retention.
func TestRetention(t *testing.T) {
	s := &fileStore{path: filepath.Join(t.TempDir(), "u.json")}
	old := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if _, err := s.add(context.Background(), tally{{"a", dateOf(old)}: {Requests: 1}}, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.add(context.Background(), tally{{"a", 20261202}: {Requests: 1}}, day2); err != nil {
		t.Fatal(err)
	}
	all, err := s.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[entry{"a", 20261202}] == nil {
		t.Errorf("after a flush 700 days later: %v", all)
	}
}

func TestUsageDays(t *testing.T) {
	l := newLedger(t, Config{})
	if _, err := l.Usage(context.Background(), "x", 0, day2); err == nil {
		t.Error("0 days accepted")
	}
	got, err := l.Usage(context.Background(), "x", 7, day2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 || !got[6].Date.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) || !got[0].Date.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("7 days to %v: %v .. %v", day2, got[0].Date, got[len(got)-1].Date)
	}
}

// TestLedgerOnCluster: on a Redis Cluster the flush pipeline spans shards
// (each name's hashes under its hash tag, the day sets elsewhere), and two
// ledgers still add up exactly, every name listed.
func TestLedgerOnCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr())
	}
	client := func() redis.UniversalClient {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: 2})
		t.Cleanup(func() { rdb.Close() })
		return rdb
	}
	a := newLedger(t, Config{Redis: client(), FlushInterval: time.Hour})
	b := newLedger(t, Config{Redis: client(), FlushInterval: time.Hour})
	names := make([]string, 20) // enough to land on every shard
	for i := range names {
		names[i] = uniqueName("shard")
		a.Record(names[i], day2, 1, "")
		b.Record(names[i], day2, 2, "rate_limited")
	}
	for _, l := range []*Ledger{a, b} {
		if err := l.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	all, err := newLedger(t, Config{Redis: client()}).All(context.Background(), day2, day2)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		want := []Day{{Date: midnight(day2), Counts: Counts{Requests: 2, Bytes: 3, Refused: map[string]int64{"rate_limited": 1}}}}
		if !reflect.DeepEqual(all[name], want) {
			t.Errorf("%s: %+v, want %+v", name, all[name], want)
		}
	}
}
