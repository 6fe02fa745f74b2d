// Command loadtest drives `hotline serve` with sipp at rising call rates
// and hold times and prints a Markdown table for docs/benchmarks.md: calls
// attempted, succeeded and failed, the concurrency reached, the server's
// CPU and peak RSS, RSS per concurrent call, and from the server's
// /metrics the RTP send-interval p99 and the DTMF → reply p95.
//
//	go build -o /tmp/hotline ./cmd/hotline
//	go run ./cmd/loadtest -hotline /tmp/hotline -steps 50x500@50s,100x1000@5s,300x3000@1s
//
// Each step starts a fresh `hotline serve` (embedded store, logs at warn)
// on 127.0.0.1, so steps do not disturb each other. sipp runs a caller
// scenario with -rtp_echo: the bot greets (prompt playback, DTMF detection
// and the jitter buffer all run) and sipp echoes the audio. When the hold
// leaves room for it, the caller keys in the case number as RFC 4733
// events (sipp's pcaps) once the notices are over (-dtmf-at), so the bot
// answers a key press; then it hangs up at the end of the hold. The
// server's /metrics is scraped at the end of each step.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type step struct {
	rate  int
	calls int
	hold  time.Duration
}

func main() {
	hotline := flag.String("hotline", "", "path to a built hotline binary")
	steps := flag.String("steps", "50x500@50s,100x1000@5s,300x3000@1s", "RATExCALLS@HOLD,…")
	record := flag.String("record", "", "recording dir for the served hotline (\"\" = off)")
	redisURL := flag.String("redis", "", "Redis URL for the served hotline (\"\" = its embedded store); each step uses its own key prefix and deletes its keys after")
	flag.DurationVar(&dtmfAt, "dtmf-at", dtmfAt, "when callers start keying, from the answer (after the non-interruptible notices)")
	flag.StringVar(&keys, "keys", keys, "what callers key (RFC 4733), in calls whose hold leaves room")
	flag.Parse()
	if *hotline == "" {
		fmt.Fprintln(os.Stderr, "loadtest: -hotline is required")
		os.Exit(2)
	}
	list, err := parseSteps(*steps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	fmt.Println("| rate (cps) | calls | hold | peak concurrent | ok | failed | server CPU | peak RSS | RSS per call | RTP send interval p99 | DTMF → reply p95 (n) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range list {
		r, err := run(*hotline, s, *record, *redisURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		fmt.Printf("| %d | %d | %v | %d | %d | %d | %.0f %% of a core | %.0f MB | %.0f KB | %s | %s (%d) |\n",
			s.rate, s.calls, s.hold, r.peakCalls, r.ok, r.failed, r.cpu*100, float64(r.peakRSS)/1e6,
			float64(r.peakRSS-r.baseRSS)/1e3/float64(max(r.peakCalls, 1)),
			r.sendP99, r.replyP95, r.replies)
	}
}

var stepRE = regexp.MustCompile(`^(\d+)x(\d+)@(\S+)$`)

func parseSteps(s string) ([]step, error) {
	var out []step
	for _, f := range strings.Split(s, ",") {
		m := stepRE.FindStringSubmatch(strings.TrimSpace(f))
		if m == nil {
			return nil, fmt.Errorf("step %q: want RATExCALLS@HOLD, e.g. 100x1000@5s", f)
		}
		rate, _ := strconv.Atoi(m[1])
		calls, _ := strconv.Atoi(m[2])
		hold, err := time.ParseDuration(m[3])
		if err != nil || rate < 1 || calls < 1 {
			return nil, fmt.Errorf("step %q: bad numbers", f)
		}
		out = append(out, step{rate, calls, hold})
	}
	return out, nil
}

type result struct {
	ok, failed, peakCalls int
	cpu                   float64 // cores used on average while sipp ran
	baseRSS, peakRSS      int64
	// From the server's /metrics at the end of the step.
	sendP99, replyP95 string
	replies           int // DTMF → reply observations
}

func freePort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func run(bin string, s step, record, redisURL string) (result, error) {
	var r result
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sipPort, err := freePort()
	if err != nil {
		return r, err
	}
	httpPort, err := freeTCPPort()
	if err != nil {
		return r, err
	}
	srv := exec.CommandContext(ctx, bin, "serve")
	srv.Env = append(os.Environ(), "HOTLINE_LOG_LEVEL=warn", fmt.Sprintf("HOTLINE_HTTP_LISTEN=127.0.0.1:%d", httpPort),
		fmt.Sprintf("HOTLINE_SIP_LISTEN=127.0.0.1:%d", sipPort), "HOTLINE_SIP_CONTACT_HOST=127.0.0.1",
		"HOTLINE_RECORDING_DIR="+record, "HOTLINE_SIP_RTP_PORT_MIN=20000", "HOTLINE_SIP_RTP_PORT_MAX=60000")
	if redisURL != "" {
		prefix := fmt.Sprintf("loadtest-%d-%d:", os.Getpid(), time.Now().UnixNano())
		srv.Env = append(srv.Env, "HOTLINE_REDIS_URL="+redisURL, "HOTLINE_REDIS_PREFIX="+prefix)
		defer func() {
			if err := deleteKeys(redisURL, prefix); err != nil {
				fmt.Fprintln(os.Stderr, "loadtest: cleaning up Redis:", err)
			}
		}()
	}
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		return r, err
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	}()
	if err := waitUDP(sipPort); err != nil {
		return r, err
	}
	time.Sleep(500 * time.Millisecond) // let start-up settle before the baseline sample
	r.baseRSS, _ = rss(srv.Process.Pid)
	cpu0, _ := cpuTicks(srv.Process.Pid)
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	stat := filepath.Join(dir, "stat.csv")
	scenario := filepath.Join(dir, "caller.xml")
	if err := os.WriteFile(scenario, []byte(callerScenario(s.hold)), 0o600); err != nil {
		return r, err
	}
	sp, _ := freePort()
	mp, _ := freePort()
	sipp := exec.CommandContext(ctx, "sipp", fmt.Sprintf("127.0.0.1:%d", sipPort), "-sf", scenario, "-s", "hotline",
		"-i", "127.0.0.1", "-p", strconv.Itoa(sp), "-mi", "127.0.0.1", "-mp", strconv.Itoa(mp),
		"-rtp_echo",
		"-r", strconv.Itoa(s.rate), "-m", strconv.Itoa(s.calls), "-l", strconv.Itoa(s.calls),
		"-nostdin", "-timeout", "300", "-trace_stat", "-stf", stat, "-fd", "1")
	sipp.Dir = dir
	start := time.Now()
	done := make(chan error, 1)
	if err := sipp.Start(); err != nil {
		return r, err
	}
	go func() { done <- sipp.Wait() }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var sippErr error
loop:
	for {
		select {
		case sippErr = <-done:
			break loop
		case <-tick.C:
			if v, err := rss(srv.Process.Pid); err == nil && v > r.peakRSS {
				r.peakRSS = v
			}
		}
	}
	wall := time.Since(start)
	cpu1, _ := cpuTicks(srv.Process.Pid)
	r.cpu = float64(cpu1-cpu0) / 100 / wall.Seconds() // USER_HZ = 100
	var ee *exec.ExitError
	if sippErr != nil && !errors.As(sippErr, &ee) {
		return r, fmt.Errorf("sipp: %w", sippErr)
	}
	if err := readStats(stat, &r); err != nil {
		return r, err
	}
	return r, scrapeLatency(fmt.Sprintf("http://127.0.0.1:%d/metrics", httpPort), &r)
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitUDP(port int) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// OPTIONS would need a SIP client; the serve logs its address,
		// but a bound UDP port is enough to know SIP is up.
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return nil // taken: the server has it
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("hotline serve did not bind its SIP port")
}

// readStats takes the final counters and the peak of concurrent calls
// from sipp's statistics file.
func readStats(path string, r *result) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil || len(rows) < 2 {
		return fmt.Errorf("sipp stats %s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(row []string, name string) int {
		i, ok := col[name]
		if !ok || i >= len(row) {
			return 0
		}
		n, _ := strconv.Atoi(strings.TrimSpace(row[i]))
		return n
	}
	for _, row := range rows[1:] {
		r.peakCalls = max(r.peakCalls, get(row, "CurrentCall"))
	}
	last := rows[len(rows)-1]
	r.ok, r.failed = get(last, "SuccessfulCall(C)"), get(last, "FailedCall(C)")
	return nil
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpuTicks is utime+stime of the process in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k, nil
}
