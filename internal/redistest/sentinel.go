package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/redisproc"
)

// MasterName is the name the sentinels of StartSentinel monitor.
const MasterName = "mymaster"

// Sentinel is a real Sentinel deployment on loopback ports: a master, one
// replica of it, and redis-sentinel processes that monitor the master.
type Sentinel struct {
	Data      []*Server // the master first, then its replica; Failover swaps their roles, not this order
	Sentinels []*Server
}

// StartSentinel starts a master, a replica and n sentinels (1 or 3; the
// quorum is a majority), and waits until the replica is in sync and every
// sentinel knows the master and the replica. It is torn down when the test
// ends.
func StartSentinel(t testing.TB, n int) *Sentinel {
	t.Helper()
	dir := t.TempDir() // before Stop's cleanup, so removed after the sentinels stop writing to it
	s := &Sentinel{}
	t.Cleanup(s.Stop)
	master, err := redisproc.Start(redisproc.Config{})
	if err != nil {
		t.Fatalf("master: %v", err)
	}
	s.Data = append(s.Data, master)
	replica, err := redisproc.Start(redisproc.Config{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port())}})
	if err != nil {
		t.Fatalf("replica: %v", err)
	}
	s.Data = append(s.Data, replica)
	for i := range n {
		// A sentinel rewrites its config file, so each has its own.
		conf := filepath.Join(dir, "sentinel-"+strconv.Itoa(i)+".conf")
		body := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 5000\n", MasterName, master.Port(), n/2+1)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		sen, err := redisproc.Start(redisproc.Config{Binary: "redis-sentinel", Args: []string{conf}})
		if err != nil {
			t.Fatalf("sentinel %d (apt-get install -y redis-sentinel): %v", i, err)
		}
		s.Sentinels = append(s.Sentinels, sen)
	}
	if err := s.settle(master.Addr(), replica.Addr()); err != nil {
		t.Fatalf("sentinel setup: %v", err)
	}
	return s
}

// settle waits until the replica of master is in sync and every sentinel
// names master as the master and knows the replica as a healthy one: only
// then can a failover pick it.
func (s *Sentinel) settle(master, replica string) error {
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	if err := waitFor(ctx, replica, func(cl *redis.Client) (bool, error) {
		info, err := cl.Info(ctx, "replication").Result()
		return strings.Contains(info, "master_link_status:up") &&
			strings.Contains(info, "master_port:"+master[strings.LastIndexByte(master, ':')+1:]), err
	}); err != nil {
		return fmt.Errorf("replica %s never synced with %s: %w", replica, master, err)
	}
	return s.waitSentinels(ctx, master, replica)
}

// waitSentinels waits until every sentinel names master as the master and,
// unless replica is empty, knows replica as a healthy replica of it.
func (s *Sentinel) waitSentinels(ctx context.Context, master, replica string) error {
	for _, sen := range s.Sentinels {
		if err := waitFor(ctx, sen.Addr(), func(cl *redis.Client) (bool, error) {
			return sentinelSees(ctx, cl, master, replica)
		}); err != nil {
			return fmt.Errorf("sentinel %s never saw master %s with replica %q: %w", sen.Addr(), master, replica, err)
		}
	}
	return nil
}

// sentinelSees reports whether the sentinel behind cl names master as the
// master and replica as a replica that is not down.
func sentinelSees(ctx context.Context, cl *redis.Client, master, replica string) (bool, error) {
	addr, err := cl.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).StringSlice()
	if err != nil || len(addr) != 2 || addr[0]+":"+addr[1] != master {
		return false, err
	}
	if replica == "" {
		return true, nil
	}
	replicas, err := cl.Do(ctx, "SENTINEL", "REPLICAS", MasterName).Slice()
	if err != nil {
		return false, err
	}
	for _, r := range replicas {
		f := fields(r)
		if f["ip"]+":"+f["port"] == replica && !strings.Contains(f["flags"], "down") && f["master-link-status"] == "ok" {
			return true, nil
		}
	}
	return false, nil
}

// fields reads one entry of a SENTINEL REPLICAS reply, a flat list of
// names and values under RESP2 or a map under RESP3.
func fields(entry any) map[string]string {
	m := map[string]string{}
	switch e := entry.(type) {
	case []any:
		for i := 0; i+1 < len(e); i += 2 {
			m[fmt.Sprint(e[i])] = fmt.Sprint(e[i+1])
		}
	case map[any]any:
		for k, v := range e {
			m[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	}
	return m
}

// URL is the deployment's REDIS_URL, every sentinel listed.
func (s *Sentinel) URL() string {
	addrs := make([]string, len(s.Sentinels))
	for i, sen := range s.Sentinels {
		addrs[i] = sen.Addr()
	}
	return "redis+sentinel://" + strings.Join(addrs, ",") + "/" + MasterName
}

// Master is the address the first sentinel names as the master now.
func (s *Sentinel) Master(ctx context.Context) (string, error) {
	cl := redis.NewClient(&redis.Options{Addr: s.Sentinels[0].Addr(), Protocol: 2})
	defer cl.Close()
	addr, err := cl.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).StringSlice()
	if err != nil || len(addr) != 2 {
		return "", fmt.Errorf("get-master-addr-by-name: %v %v", addr, err)
	}
	return addr[0] + ":" + addr[1], nil
}

// Failover has the first sentinel promote the replica (SENTINEL FAILOVER)
// and waits until every sentinel names it as the master. The old master
// stays a master for some seconds more: sentinels turn it into a replica
// only after it has reported the wrong role for a while (8 s in Redis 7),
// which is also what clients that missed the switch would meet.
func (s *Sentinel) Failover(t testing.TB) (master string) {
	t.Helper()
	return s.switchMaster(t, func(ctx context.Context, _ *Server) error {
		cl := redis.NewClient(&redis.Options{Addr: s.Sentinels[0].Addr(), Protocol: 2})
		defer cl.Close()
		return cl.Do(ctx, "SENTINEL", "FAILOVER", MasterName).Err()
	})
}

// KillMaster kills the master, as a crash would, and waits until the
// sentinels have agreed it is down and every one names the replica as the
// master: down-after-milliseconds (1 s), then an election among them.
func (s *Sentinel) KillMaster(t testing.TB) (master string) {
	t.Helper()
	return s.switchMaster(t, func(_ context.Context, old *Server) error {
		old.Stop()
		return nil
	})
}

// switchMaster runs act on the current master and waits until every
// sentinel names the other data node as the master, which it returns.
func (s *Sentinel) switchMaster(t testing.TB, act func(context.Context, *Server) error) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	old, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cur, next := s.Data[0], s.Data[1]
	if cur.Addr() != old {
		cur, next = next, cur
	}
	if err := act(ctx, cur); err != nil {
		t.Fatalf("switching master %s: %v", old, err)
	}
	if err := s.waitSentinels(ctx, next.Addr(), ""); err != nil {
		t.Fatalf("after switching master %s: %v", old, err)
	}
	return next.Addr()
}

// Stop kills the sentinels, then the data nodes.
func (s *Sentinel) Stop() {
	for _, sen := range s.Sentinels {
		sen.Stop()
	}
	for _, d := range s.Data {
		d.Stop()
	}
}
