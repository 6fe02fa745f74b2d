package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process owned by one test, on 127.0.0.1 and a
// port of its own, that the test can stop (as in an outage or a crash) and
// start again on the same port and data directory.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartServer starts /usr/bin/redis-server (or the one on PATH) with no
// persistence unless args say otherwise (e.g. "--appendonly", "yes"). It
// is killed when the test ends. Without the binary the test is skipped,
// or fails when HOTLINE_E2E=1.
func StartServer(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if E2E() {
			tb.Fatalf("redistest: redis-server is required with HOTLINE_E2E=1: %v", err)
		}
		tb.Skipf("redistest: redis-server not installed (%v)", err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), port: freeTCPPort(tb), args: args}
	tb.Cleanup(s.Kill)
	s.Start()
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis:// URL of the server's database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Dir is the server's data directory (AOF, RDB).
func (s *Server) Dir() string { return s.dir }

// Client returns a client with short timeouts and no retries, so an
// outage shows at once; it is closed when the test ends.
func (s *Server) Client() redis.UniversalClient {
	c := redis.NewClient(&redis.Options{
		Addr: s.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
	})
	s.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Start starts the server (again) on its port and waits until it answers
// PING.
func (s *Server) Start() {
	s.tb.Helper()
	if s.cmd != nil {
		s.tb.Fatal("redistest: server already running")
	}
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}, s.args...) // later options win
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("redistest: start redis-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.tb.Fatalf("redistest: redis-server exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("redistest: redis-server on %s not answering: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond) // a process starting: nothing to wait on but PING
	}
}

// Kill stops the server at once (SIGKILL: an outage, or a crash that
// only what was fsynced survives) and waits for the process to be gone.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func freeTCPPort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
