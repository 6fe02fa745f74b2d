package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hotline/assistant/httpapi"
)

const apiToken = "e2e-test-token-0123456789"

// served is a running `hotline serve`.
type served struct {
	http, sip string
	stderr    *strings.Builder
}

// startServe runs the hotline binary on 127.0.0.1 ports chosen by the
// OS, waits until it reports its HTTP and SIP addresses, and stops it
// with SIGTERM at the end of the test.
func startServe(t *testing.T, env ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary)
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
	s := &served{stderr: &strings.Builder{}}
	httpc, sipc := make(chan string, 1), make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		re := regexp.MustCompile(`msg="(http|sip) listening" addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				if m[1] == "http" {
					httpc <- m[2]
				} else {
					sipc <- m[2]
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hotline serve exited: %v\n%s", err, s.stderr)
			}
		case <-time.After(15 * time.Second):
			cancel()
			t.Errorf("hotline serve did not stop after SIGTERM")
			<-done
		}
		cancel()
		<-logDone
	})
	deadline := time.After(30 * time.Second)
	for s.http == "" || s.sip == "" {
		select {
		case s.http = <-httpc:
		case s.sip = <-sipc:
		case <-deadline:
			t.Fatalf("serve did not report its addresses:\n%s", s.stderr)
		}
	}
	return s
}

// calls lists the calls through the API.
func (s *served) calls(t *testing.T, state string) []httpapi.CallView {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+"/api/v1/calls?state="+state, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Calls []httpapi.CallView }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Calls
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatalf("%s is required with HOTLINE_E2E=1", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSipp runs one sipp call of scenario against the served hotline.
func runSipp(t *testing.T, s *served, scenario string, extra ...string) {
	t.Helper()
	bin := needTool(t, "sipp")
	dir := t.TempDir()
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{s.sip, "-sf", sf, "-s", "hotline",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-l", "1", "-nostdin", "-timeout", "90", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp %s: %v\n%s\n%s\n--- hotline log:\n%s", scenario, err, errs, tail(string(out), 2000), s.stderr)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitEnded polls the API until one call has ended (the BYE is processed
// asynchronously after sipp exits).
func (s *served) waitEnded(t *testing.T) httpapi.CallView {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if cs := s.calls(t, "ended"); len(cs) > 0 {
			return cs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ended call\n%s", s.stderr)
		}
		time.Sleep(100 * time.Millisecond) // polling a real peer's asynchronous end
	}
}

// TestSIPDebtorKeysInAndHearsTheDebt: a debtor calls `hotline serve` from
// sipp, keys the case number, date of birth and "1" as RFC 4733 events
// from sipp's own pcaps, and the assistant tells the debt.
func TestSIPDebtorKeysInAndHearsTheDebt(t *testing.T) {
	needTool(t, "sipp")
	s := startServe(t)
	runSipp(t, s, "sipp_debt_rfc4733.xml")
	call := s.waitEnded(t)
	if call.Verification != "verified" || call.CaseNumber != "12345678" || call.LegType != "sip" {
		t.Fatalf("call = %+v", call)
	}
	kinds := map[string]bool{}
	for _, d := range call.Disclosures {
		kinds[string(d.Kind)] = true
	}
	if !kinds["balance"] || !kinds["principal"] {
		t.Fatalf("disclosures = %+v", call.Disclosures)
	}
	var said strings.Builder
	for _, l := range call.Transcript {
		said.WriteString(l.Who + ": " + l.Text + "\n")
	}
	if !strings.Contains(said.String(), "tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy") {
		t.Fatalf("transcript lacks the balance:\n%s", said.String())
	}
	if call.Termination != "caller_hung_up" {
		t.Fatalf("termination = %q", call.Termination)
	}
}
