// Package redistest gives tests a Redis to talk to: the real redis-server
// on 127.0.0.1:6379 (or HOTLINE_TEST_REDIS_URL) with a key prefix unique to
// the test, or an in-process miniredis for unit tests that need no server.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// E2E reports whether HOTLINE_E2E=1, in which case a missing external peer
// (redis-server, sipp, chromium, …) fails the test instead of skipping it.
func E2E() bool { return os.Getenv("HOTLINE_E2E") == "1" }

// Real connects to the real Redis server and returns a client and a key
// prefix unique to this test ("hotline:test:<hex>:"). Keys under the prefix
// are deleted when the test ends. Without a reachable server the test is
// skipped, or fails when HOTLINE_E2E=1.
func Real(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	url := os.Getenv("HOTLINE_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("redistest: bad HOTLINE_TEST_REDIS_URL: %v", err)
	}
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if E2E() {
			tb.Fatalf("redistest: redis-server at %s is required with HOTLINE_E2E=1: %v", url, err)
		}
		tb.Skipf("redistest: no redis-server at %s (%v); set HOTLINE_E2E=1 to make this a failure", url, err)
	}
	prefix := "hotline:test:" + randHex() + ":"
	tb.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		_ = c.Close()
	})
	return c, prefix
}

// Mini starts an in-process miniredis and returns a client to it, the
// server (to fast-forward TTLs) and the prefix "hotline:".
func Mini(tb testing.TB) (redis.UniversalClient, *miniredis.Miniredis, string) {
	tb.Helper()
	m := miniredis.RunT(tb)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	tb.Cleanup(func() { _ = c.Close() })
	return c, m, "hotline:"
}

func randHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Each runs f against the real Redis (subtest "real", skipped without a
// server unless HOTLINE_E2E=1) and against miniredis (subtest "mini", the
// embedded store of `hotline serve` without redis.url).
func Each(t *testing.T, f func(t *testing.T, rdb redis.UniversalClient, prefix string)) {
	t.Helper()
	t.Run("real", func(t *testing.T) {
		rdb, prefix := Real(t)
		f(t, rdb, prefix)
	})
	t.Run("mini", func(t *testing.T) {
		rdb, _, prefix := Mini(t)
		f(t, rdb, prefix)
	})
}
