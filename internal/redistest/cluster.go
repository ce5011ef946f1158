package redistest

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/redisproc"
)

// formTimeout bounds how long a cluster or a sentinel setup may take to
// agree on its shape before the test gives up.
const formTimeout = 15 * time.Second

// Cluster is a real Redis Cluster of three masters on loopback ports, no
// replicas: enough for keys to live on different shards, which is what the
// cluster path of the limiter and the access store must survive.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts three redis-server processes in cluster mode, gives
// each a third of the 16384 slots, introduces them to each other and waits
// until every node reports the cluster healthy. It is torn down when the
// test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	dir := t.TempDir()
	c := &Cluster{}
	t.Cleanup(c.Stop)
	for i := range 3 {
		s, err := redisproc.Start(redisproc.Config{Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes-"+strconv.Itoa(i)+".conf"),
			"--cluster-node-timeout", "2000",
			"--dir", dir,
		}})
		if err != nil {
			t.Fatalf("cluster node %d: %v", i, err)
		}
		c.Nodes = append(c.Nodes, s)
	}
	if err := c.form(); err != nil {
		t.Fatalf("forming the cluster: %v", err)
	}
	return c
}

// form assigns the slots and joins the nodes, as redis-cli --cluster create
// does, without needing redis-cli: each node takes a distinct config epoch
// (so no epoch collision has to be resolved), its slot range, and a MEET.
func (c *Cluster) form() error {
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	per := 16384 / len(c.Nodes)
	for i, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2})
		first, last := i*per, (i+1)*per-1
		if i == len(c.Nodes)-1 {
			last = 16383
		}
		err := cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		if err == nil {
			err = cl.ClusterAddSlotsRange(ctx, first, last).Err()
		}
		if err == nil && i > 0 {
			err = cl.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(c.Nodes[0].Port())).Err()
		}
		cl.Close()
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Addr(), err)
		}
	}
	for _, n := range c.Nodes {
		if err := waitFor(ctx, n.Addr(), func(cl *redis.Client) (bool, error) {
			info, err := cl.ClusterInfo(ctx).Result()
			return strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))) &&
				strings.Contains(info, "cluster_slots_ok:16384"), err
		}); err != nil {
			return fmt.Errorf("node %s never saw the whole cluster: %w", n.Addr(), err)
		}
	}
	return nil
}

// URL is the cluster's REDIS_URL, every node listed.
func (c *Cluster) URL() string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// Stop kills every node.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
	}
}

// waitFor polls check on a client of addr every 50 ms until it holds or ctx
// ends, and returns the last error seen with ctx's.
func waitFor(ctx context.Context, addr string, check func(*redis.Client) (bool, error)) error {
	cl := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1})
	defer cl.Close()
	var last error
	for {
		ok, err := check(cl)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
