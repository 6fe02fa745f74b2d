package redistest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of masters (no replicas) owned by one test:
// redis-server processes on 127.0.0.1, joined and given the 16384 slots
// by `redis-cli --cluster create`, killed when the test ends.
type Cluster struct {
	tb    testing.TB
	Nodes []*Server
	admin redis.UniversalClient // a plain client to the first node
}

// StartCluster starts masters cluster-enabled redis-servers, creates the
// cluster and waits until every node reports cluster_state:ok. Without
// redis-server or redis-cli the test is skipped, or fails when
// HOTLINE_E2E=1.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if E2E() {
			tb.Fatalf("redistest: redis-cli is required with HOTLINE_E2E=1: %v", err)
		}
		tb.Skipf("redistest: redis-cli not installed (%v)", err)
	}
	c := &Cluster{tb: tb}
	for range masters {
		// The bus port is set explicitly: the default (port+10000) may
		// be past 65535 or taken for an OS-chosen port.
		c.Nodes = append(c.Nodes, StartServer(tb, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", // in the node's own --dir
			"--cluster-port", strconv.Itoa(freeTCPPort(tb)),
			"--cluster-node-timeout", "5000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range c.Nodes {
		nc := n.Client()
		for {
			info, err := nc.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redistest: cluster node %s not ok: %v\n%s", n.Addr(), err, info)
			}
			time.Sleep(50 * time.Millisecond) // the nodes gossip the new slots: nothing to wait on but CLUSTER INFO
		}
	}
	c.admin = c.Nodes[0].Client()
	return c
}

// Addrs are the nodes' host:port.
func (c *Cluster) Addrs() []string {
	a := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		a[i] = n.Addr()
	}
	return a
}

// URL is the redis+cluster:// URL naming every node (the first as the
// seed, the others as addr= parameters).
func (c *Cluster) URL() string {
	a := c.Addrs()
	return "redis+cluster://" + a[0] + "?addr=" + strings.Join(a[1:], "&addr=")
}

// Client returns a cluster client (closed when the test ends).
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})
	c.tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Owner returns the node that serves key's hash slot, and the slot.
func (c *Cluster) Owner(ctx context.Context, key string) (*Server, int) {
	c.tb.Helper()
	slot, err := c.admin.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		c.tb.Fatalf("redistest: CLUSTER KEYSLOT %s: %v", key, err)
	}
	ranges, err := c.admin.ClusterSlots(ctx).Result()
	if err != nil {
		c.tb.Fatalf("redistest: CLUSTER SLOTS: %v", err)
	}
	for _, r := range ranges {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
			for _, n := range c.Nodes {
				if n.Addr() == r.Nodes[0].Addr {
					return n, int(slot)
				}
			}
		}
	}
	c.tb.Fatalf("redistest: no node serves slot %d", slot)
	return nil, 0
}
