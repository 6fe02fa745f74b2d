package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kamailioBin finds kamailio (Debian installs it in /usr/sbin, which a
// user's PATH may lack).
func kamailioBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("kamailio"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/kamailio"); err == nil {
		return "/usr/sbin/kamailio"
	}
	return needTool(t, "kamailio") // skips, or fails with HOTLINE_E2E=1
}

// startKamailio runs configs/kamailio/kamailio.cfg on 127.0.0.1 with a
// dispatcher list of the given SIP addresses, probing every ping, and
// returns its SIP address and log.
func startKamailio(t *testing.T, ping time.Duration, targets ...string) (string, *logBuf) {
	t.Helper()
	bin := kamailioBin(t)
	dir := t.TempDir()
	port := freeUDPPort(t)
	var list strings.Builder
	for i, a := range targets {
		fmt.Fprintf(&list, "1 sip:%s;transport=udp 0 0 duid=hotline-%c\n", a, 'a'+i)
	}
	listFile := filepath.Join(dir, "dispatcher.list")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../../configs/kamailio/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	set := func(name, value string) {
		re := regexp.MustCompile(`(?m)^#!substdef "!` + name + `!.*!g"$`)
		if !re.Match(cfg) {
			t.Fatalf("kamailio.cfg lacks the substdef of %s", name)
		}
		cfg = re.ReplaceAll(cfg, []byte(`#!substdef "!`+name+`!`+value+`!g"`))
	}
	set("HOTLINE_LISTEN", "udp:127.0.0.1:"+strconv.Itoa(port))
	set("HOTLINE_DISPATCHER_LIST", listFile)
	set("HOTLINE_PING_INTERVAL", strconv.Itoa(int(ping.Seconds())))
	cfgFile := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	// -DD: foreground; -E: log to stderr; -Y/-P: runtime files in the test's dir.
	cmd := exec.Command(bin, "-f", cfgFile, "-DD", "-E", "-n", "2", "-m", "64", "-M", "8",
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.add(sc.Text())
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		<-logDone
		if t.Failed() {
			t.Logf("kamailio log:\n%s", tail(logs.String(), 6000))
		}
	})
	return "127.0.0.1:" + strconv.Itoa(port), logs
}

// withRoutes makes a caller scenario send its ACK and BYE with the route
// set the 200 OK recorded (Record-Route), as a UA behind a proxy must
// (RFC 3261 §12.2.1.1): they then pass the proxy to the instance.
func withRoutes(t *testing.T, scenario string) string {
	t.Helper()
	b, err := os.ReadFile(scenario)
	if err != nil {
		t.Fatal(err)
	}
	const at = "Max-Forwards: 70\n      Content-Length: 0"
	x := string(b)
	if strings.Count(x, at) != 2 {
		t.Fatalf("scenario shape changed: %d ACK/BYE without body", strings.Count(x, at))
	}
	x = strings.ReplaceAll(x, at, "Max-Forwards: 70\n      [routes]\n      Content-Length: 0")
	p := filepath.Join(t.TempDir(), "routed.xml")
	if err := os.WriteFile(p, []byte(x), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// invites counts the INVITEs an instance took (its "incoming call" lines).
func (in *instance) invites() int { return strings.Count(in.logs.String(), `msg="incoming call"`) }

// TestKamailioSpreadsCallsAndSkipsADrainedInstance: Kamailio with the
// example configuration in front of two instances: calls through it reach
// both; once one instance drains (SIGTERM, with a live call keeping it
// draining) every new call goes to the other, and they all succeed —
// whether the OPTIONS probe saw the drain first (probing every second) or
// an INVITE met the draining instance's 503 and failed over (probing too
// rarely to notice).
func TestKamailioSpreadsCallsAndSkipsADrainedInstance(t *testing.T) {
	needTool(t, "sipp")
	kamailioBin(t)
	for _, tt := range []struct {
		name     string
		ping     time.Duration
		failover bool // an INVITE must have failed over on 503
	}{
		{"probe sees the drain", time.Second, false},
		{"invite fails over on 503", 10 * time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testKamailio(t, tt.ping, tt.failover)
		})
	}
}

func testKamailio(t *testing.T, ping time.Duration, failover bool) {
	a := startInstance(t, "HOTLINE_SIP_DRAIN_TIMEOUT=60s")
	b := startInstance(t)
	proxy, klog := startKamailio(t, ping, a.sip, b.sip)
	short := withRoutes(t, callerScenario(t, pause(time.Second), 2))

	// Kamailio starts in a moment; the first call may find it not yet
	// listening, so it is retried until one passes.
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err = <-startSipp(t, proxy, short); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("first call through kamailio: %v\n%s", err, klog)
	}
	for range 3 {
		if err := <-startSipp(t, proxy, short); err != nil {
			t.Fatalf("call through kamailio: %v", err)
		}
	}
	na, nb := a.invites(), b.invites()
	t.Logf("4 calls through kamailio: %d to a, %d to b", na, nb)
	if na == 0 || nb == 0 || na+nb != 4 {
		t.Fatalf("calls per instance: a %d, b %d (want both > 0, 4 in all)", na, nb)
	}

	// A live call straight to a keeps it draining (and answering 503)
	// after SIGTERM instead of exiting.
	live := startSipp(t, a.sip, callerScenario(t, pause(25*time.Second), 2)) // straight: no proxy, no routes
	poll(t, 10*time.Second, "the live call on a", func() bool { return a.invites() == na+1 })
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "a to drain", func() bool { return strings.Contains(a.logs.String(), "draining: new calls refused") })
	for range 4 {
		if err := <-startSipp(t, proxy, short); err != nil {
			t.Fatalf("call through kamailio while a drains: %v\n%s", err, tail(klog.String(), 3000))
		}
	}
	if got := a.invites(); got != na+1 {
		t.Errorf("the draining instance took %d new calls", got-na-1)
	}
	if got := b.invites(); got != nb+4 {
		t.Errorf("b took %d of the 4 calls made while a drained", got-nb)
	}
	kl := klog.String()
	down, failovers := strings.Contains(kl, "sip:"+a.sip+";transport=udp is DOWN"), strings.Count(kl, "failing over")
	t.Logf("kamailio: probe marked a down: %v; INVITEs failed over on 503: %d", down, failovers)
	if failover && failovers == 0 {
		t.Errorf("no INVITE failed over although the probe was too rare to see the drain")
	}
	if !failover && !down {
		t.Errorf("the OPTIONS probe did not take the draining instance out")
	}
	if err := <-live; err != nil {
		t.Errorf("the live call on the draining instance: %v", err)
	}
}
