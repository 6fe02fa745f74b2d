package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/redistest"
	"hotline/configs"
)

func TestNewRedisClientForms(t *testing.T) {
	tests := []struct {
		url     string
		want    string // the client's type
		wantErr string
	}{
		{"redis://127.0.0.1:6379/0", "*redis.Client", ""},
		{"rediss://:pw@redis.example:6380/2", "*redis.Client", ""},
		{"unix:///run/redis.sock", "*redis.Client", ""},
		{"redis+sentinel://s1:26379/0?master_name=hotline&addr=s2:26379", "*redis.Client", ""}, // a failover client
		{"redis://s1:26379/0?master_name=hotline", "*redis.Client", ""},
		{"redis+sentinel://s1:26379/0", "", "master_name"},
		{"redis+cluster://n1:6379?addr=n2:6379&addr=n3:6379", "*redis.ClusterClient", ""},
		{"redis+cluster://n1:6379?bogus=1", "", "bogus"},
		{"redis+ring://n1:6379", "", "unknown scheme"},
	}
	for _, tt := range tests {
		c, err := newRedisClient(configs.RedisConfig{URL: tt.url, DialTimeout: time.Second, OpTimeout: time.Second})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if got := fmt.Sprintf("%T", c); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.url, got, tt.want)
		}
		if rc, ok := c.(*redis.Client); ok {
			if o := rc.Options(); o.MaxRetries != 1 || o.DialerRetries != 1 || !o.ContextTimeoutEnabled || o.ReadTimeout != time.Second {
				t.Errorf("%s: retries %d/%d, timeouts %v %v: not failing fast", tt.url, o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled, o.ReadTimeout)
			}
		}
		_ = c.Close()
	}
	// The configuration accepts the same forms.
	for _, u := range []string{"redis+sentinel://s1:26379/0?master_name=x", "redis+cluster://n1:6379"} {
		if _, err := configs.Load("", func(k string) (string, bool) {
			switch k {
			case "HOTLINE_REDIS_URL":
				return u, true
			case "HOTLINE_REDIS_PREFIX": // a cluster needs a hash tag
				return "{hotline}:", true
			}
			return "", false
		}); err != nil {
			t.Errorf("config rejects %s: %v", u, err)
		}
	}
}

// TestSentinelURL: `hotline` imports the cases and runs a conversation
// through a Sentinel (redis-server --sentinel) that names the master.
func TestSentinelURL(t *testing.T) {
	master := redistest.StartServer(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "sentinel.conf")
	host, mport, _ := net.SplitHostPort(master.Addr())
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor hotline %s %s 1\nsentinel down-after-milliseconds hotline 5000\n", port, dir, host, mport)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1})
	t.Cleanup(func() { _ = sentinel.Close() })
	poll(t, 10*time.Second, "the sentinel", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		addr, err := sentinel.GetMasterAddrByName(ctx, "hotline").Result()
		return err == nil && len(addr) == 2
	})
	env := []string{"HOTLINE_REDIS_URL=redis+sentinel://127.0.0.1:" + strconv.Itoa(port) + "/0?master_name=hotline",
		"HOTLINE_REDIS_PREFIX=hotline:sentinel:"}
	if r := runHotline(t, env, "", "cases", "import", "../../configs/demo-cases.yaml"); r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	r := runHotline(t, env, "22222222#\n31121990\n1\n", "chat")
	if r.code != 0 || !strings.Contains(r.stdout, "trzydzieści dziewięć złotych") {
		t.Fatalf("chat: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The data is on the master the sentinel named.
	keys, err := master.Client().Keys(context.Background(), "hotline:sentinel:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no keys on the master: %v", err)
	}
}
