package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/httpapi"
	"hotline/assistant/redistest"
	"hotline/assistant/session"
)

// logBuf collects a process's stderr; safe to read while it is written.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(line + "\n")
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instance is a running `hotline serve` that the test may signal: the
// operations tests drain it, stop it and read its logs in either format.
type instance struct {
	*served // addresses, the API helpers; its stderr is logs
	cmd     *exec.Cmd
	logs    *logBuf
	exited  chan struct{} // closed when the process has exited
	exitErr error         // valid after exited
}

// listeningRe finds "http listening"/"sip listening" and the address in
// text (msg="http listening" addr=…) and JSON ("msg":"http listening","addr":"…") logs.
var listeningRe = regexp.MustCompile(`"?msg"?[=:]"(http|sip) listening"[ ,]"?addr"?[=:]"?([0-9.:\[\]a-f]+)`)

// startInstance runs the hotline binary on 127.0.0.1 ports chosen by the
// OS with env on top of the test defaults; the test's end stops it with
// SIGTERM (if it still runs) and expects a clean exit.
func startInstance(t *testing.T, env ...string) *instance {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append(cleanEnv(), append([]string{
		"HOTLINE_HTTP_LISTEN=127.0.0.1:0", "HOTLINE_SIP_LISTEN=127.0.0.1:0",
		"HOTLINE_SIP_CONTACT_HOST=127.0.0.1", "HOTLINE_API_TOKENS=" + apiToken,
		"HOTLINE_SIP_DRAIN_TIMEOUT=2s",
	}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	in := &instance{served: &served{stderr: logs}, cmd: cmd, logs: logs, exited: make(chan struct{})}
	httpc, sipc := make(chan string, 1), make(chan string, 2)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			in.logs.add(line)
			if m := listeningRe.FindStringSubmatch(line); m != nil {
				c := httpc
				if m[1] == "sip" {
					c = sipc
				}
				select {
				case c <- m[2]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-logDone // Wait closes the pipe: read everything first
		in.exitErr = cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-in.exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
			if in.exitErr != nil {
				t.Errorf("hotline serve exited: %v\n%s", in.exitErr, in.logs)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-in.exited
			t.Errorf("hotline serve did not stop after SIGTERM\n%s", in.logs)
		}
	})
	deadline := time.After(30 * time.Second)
	for in.http == "" || in.sip == "" {
		select {
		case in.http = <-httpc:
		case in.sip = <-sipc:
		case <-in.exited:
			t.Fatalf("hotline serve exited early: %v\n%s", in.exitErr, in.logs)
		case <-deadline:
			t.Fatalf("serve did not report its addresses:\n%s", in.logs)
		}
	}
	return in
}

// wait waits for the process to exit.
func (in *instance) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-in.exited:
		return in.exitErr
	case <-time.After(within):
		t.Fatalf("hotline serve still running after %v\n%s", within, in.logs)
		return nil
	}
}

// get returns the status and body of an authorised HTTP GET on the
// instance.
func (in *instance) get(t *testing.T, path string) (int, string) {
	t.Helper()
	code, b := api(t, in.http, http.MethodGet, path, "", "")
	return code, string(b)
}

// poll calls cond until it holds or within passes (a real peer's state
// changes asynchronously: there is nothing to wait on but the API).
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startSipp runs one sipp call in the background; the returned channel
// yields its error (nil: the scenario passed) and sipp's output.
func startSipp(t *testing.T, target, scenario string, extra ...string) <-chan error {
	t.Helper()
	bin := needTool(t, "sipp")
	dir := t.TempDir()
	args := append([]string{target, "-sf", scenario, "-s", "hotline",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-l", "1", "-nostdin", "-timeout", "150", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	errc := make(chan error, 1)
	go func() {
		defer cancel()
		out, err := cmd.CombinedOutput()
		if err != nil {
			errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
			err = fmt.Errorf("sipp %s: %w\n%s\n%s", filepath.Base(scenario), err, errs, tail(string(out), 1500))
		}
		errc <- err
	}()
	t.Cleanup(func() {
		cancel()
	})
	return errc
}

// rejectedScenario is a sipp UAC whose INVITE must be refused with 503
// and a Retry-After header (RFC 3261 §21.5.4, §20.33).
const rejectedScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="refused while draining">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+48221234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="503">
    <action>
      <ereg regexp="Retry-After: *[0-9]+" search_in="msg" check_it="true" assign_to="ra"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+48221234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="ra"/>
</scenario>
`

func writeScenario(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDrainLetsLiveCallFinish: SIGTERM while a debtor is on the line —
// /readyz turns 503, a new INVITE gets 503 with Retry-After, the drain
// logs the live call it waits for, the live call completes (keys,
// verification, the debt, the caller's BYE answered), and the process
// then exits cleanly. While the one allowed call is live, /healthz says
// 429 (sip.max_calls=1).
func TestDrainLetsLiveCallFinish(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel() // its own instance and key prefix
	rdb, prefix := realRedisWithDemoCases(t)
	in := startInstance(t, "HOTLINE_SIP_DRAIN_TIMEOUT=120s", "HOTLINE_SIP_MAX_CALLS=1", // the call lasts a minute
		"HOTLINE_REDIS_URL=redis://127.0.0.1:6379/0", "HOTLINE_REDIS_PREFIX="+prefix)
	if code, body := in.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz before the call = %d %s", code, body)
	}
	live := startSipp(t, in.sip, callerScenario(t, rfc4733Body(debtorKeys), 2), "-rtp_echo")
	poll(t, 15*time.Second, "the call to be live", func() bool { return len(in.calls(t, "live")) == 1 })
	if code, body := in.get(t, "/healthz"); code != http.StatusTooManyRequests || !strings.Contains(body, `"max_calls":1`) {
		t.Fatalf("/healthz at the call limit = %d %s", code, body)
	}

	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "/readyz to say draining", func() bool {
		code, body := in.get(t, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "draining")
	})
	refused := startSipp(t, in.sip, writeScenario(t, "refused.xml", rejectedScenario))
	if err := <-refused; err != nil {
		t.Fatalf("new INVITE while draining: %v\n%s", err, in.logs)
	}
	select {
	case <-in.exited:
		t.Fatalf("exited while a call was live\n%s", in.logs)
	default:
	}
	if err := <-live; err != nil {
		t.Fatalf("the live call did not complete after SIGTERM: %v\n%s", err, in.logs)
	}
	if err := in.wait(t, 20*time.Second); err != nil {
		t.Fatalf("exit after drain: %v\n%s", err, in.logs)
	}
	logs := in.logs.String()
	for _, want := range []string{`msg="draining: waiting for live calls" live_calls=1`, `msg=drained`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q\n%s", want, logs)
		}
	}
	// The call ran to its end on the drained instance: verified, the debt told.
	stored := storedCalls(t, rdb, prefix)
	if len(stored) != 1 {
		t.Fatalf("%d calls stored, want 1", len(stored))
	}
	if c := stored[0]; c.Verification != "verified" || c.Termination != "caller_hung_up" || len(c.Disclosures) == 0 {
		t.Errorf("call after drain = %+v", c)
	}
}

// realRedisWithDemoCases gives the test a prefix on the real Redis with
// the demo cases imported, as an operator does with `hotline cases import`.
func realRedisWithDemoCases(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	env := []string{"HOTLINE_REDIS_URL=redis://127.0.0.1:6379/0", "HOTLINE_REDIS_PREFIX=" + prefix}
	if r := runHotline(t, env, "", "cases", "import", "../../configs/demo-cases.yaml"); r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	return rdb, prefix
}

// storedCalls reads the calls straight from Redis (the instance that
// handled them may be gone).
func storedCalls(t *testing.T, rdb redis.UniversalClient, prefix string) []httpapi.CallView {
	t.Helper()
	ss, err := session.NewStore(rdb, prefix, time.Hour).List(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]httpapi.CallView, len(ss))
	for i, s := range ss {
		out[i] = httpapi.NewCallView(s)
	}
	return out
}

// TestSecondSignalStopsAtOnce: a second SIGTERM during a drain does not
// wait for the live call.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	needTool(t, "sipp")
	in := startInstance(t, "HOTLINE_SIP_DRAIN_TIMEOUT=60s")
	live := startSipp(t, in.sip, callerScenario(t, pause(40*time.Second), 2))
	poll(t, 15*time.Second, "the call to be live", func() bool { return len(in.calls(t, "live")) == 1 })
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "the drain", func() bool { return strings.Contains(in.logs.String(), "draining: new calls refused") })
	start := time.Now()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := in.wait(t, 5*time.Second)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit after the second signal: %v\n%s", err, in.logs)
	}
	if !strings.Contains(in.logs.String(), "second signal") {
		t.Errorf("no word of the second signal:\n%s", in.logs)
	}
	t.Logf("stopped %v after the second signal", time.Since(start).Round(time.Millisecond))
	_ = live // sipp is left without a peer; the test's cleanup stops it
}
