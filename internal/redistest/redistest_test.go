package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestClusterSpreadsKeys: the three masters each own slots, a cluster
// client reaches all of them, and keys land on more than one shard.
func TestClusterSpreadsKeys(t *testing.T) {
	c := StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs := []string{c.Nodes[0].Addr(), c.Nodes[1].Addr(), c.Nodes[2].Addr()}
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: 2})
	defer cl.Close()
	for i := range 30 {
		if err := cl.Set(ctx, fmt.Sprintf("key-%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET through the cluster: %v", err)
		}
	}
	holding := 0
	for _, n := range c.Nodes {
		node := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2})
		size, err := node.DBSize(ctx).Result()
		node.Close()
		if err != nil {
			t.Fatal(err)
		}
		if size > 0 {
			holding++
		}
	}
	if holding != 3 {
		t.Fatalf("%d of 3 masters hold keys, want all three", holding)
	}
	if got := c.URL(); got != "redis+cluster://"+addrs[0]+","+addrs[1]+","+addrs[2] {
		t.Errorf("URL %q", got)
	}
}

// TestSentinelFailover: a failover client writes through the sentinels;
// after SENTINEL FAILOVER, or the master's death, the replica is the master,
// it holds what was written, and the client writes to it.
func TestSentinelFailover(t *testing.T) {
	tests := []struct {
		name      string
		sentinels int
		switchTo  func(*Sentinel, testing.TB) string
	}{
		{"SENTINEL FAILOVER, 1 sentinel", 1, (*Sentinel).Failover},
		{"SENTINEL FAILOVER, 3 sentinels", 3, (*Sentinel).Failover},
		{"master killed, 3 sentinels", 3, (*Sentinel).KillMaster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := StartSentinel(t, tt.sentinels)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			addrs := make([]string, len(s.Sentinels))
			for i, sen := range s.Sentinels {
				addrs[i] = sen.Addr()
			}
			if got := s.URL(); got != "redis+sentinel://"+strings.Join(addrs, ",")+"/"+MasterName {
				t.Errorf("URL %q", got)
			}
			cl := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: addrs, Protocol: 2})
			defer cl.Close()
			if err := cl.Set(ctx, "before", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			// Replicated before the master may die: replication is asynchronous.
			if n, err := cl.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
				t.Fatalf("WAIT for the replica: %d %v", n, err)
			}
			old, err := s.Master(ctx)
			if err != nil || old != s.Data[0].Addr() {
				t.Fatalf("master %q (%v), want %s", old, err, s.Data[0].Addr())
			}
			if next := tt.switchTo(s, t); next != s.Data[1].Addr() {
				t.Fatalf("switched to %s, want the replica %s", next, s.Data[1].Addr())
			}
			if now, err := s.Master(ctx); err != nil || now != s.Data[1].Addr() {
				t.Fatalf("master after the switch %q (%v), want %s", now, err, s.Data[1].Addr())
			}
			promoted := redis.NewClient(&redis.Options{Addr: s.Data[1].Addr(), Protocol: 2})
			defer promoted.Close()
			if v, err := promoted.Get(ctx, "before").Result(); err != nil || v != "1" {
				t.Fatalf("the promoted replica holds %q (%v)", v, err)
			}
			// The client follows the switch when the sentinel tells it;
			// until then it may still write to the old master, which
			// sentinels demote only seconds later.
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := cl.Set(ctx, "after", "2", 0).Err()
				if v, _ := promoted.Get(ctx, "after").Result(); err == nil && v == "2" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the failover client never wrote to the new master")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
