package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/assistant/callbacks"
	"hotline/assistant/httpapi"
	"hotline/configs"
	"hotline/telephony/audio"
)

// The harness of the outbound end-to-end tests (outbound_e2e_test.go):
// a sipp callee, `hotline serve` in process with a fake clock, the API
// calls they make and the measures of the call recordings.

// uasEnd: how the callee's call ends.
const (
	// calleeHangsUp: the callee sends BYE in the dialog the INVITE set up
	// (RFC 3261 §15.1.1).
	calleeHangsUp = `<!-- CAPTURE -->
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From:[$callee];tag=[pid]SIPpTag01[call_number]
      To:[$caller]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Contact: <sip:debtor@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
`
	// botHangsUp: the callee waits for the assistant's BYE.
	botHangsUp = `  <recv request="BYE" timeout="60000"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
`
)

// uas is a sipp callee waiting for one call.
type uas struct {
	port   int
	exited chan error
	out    *lockedBuffer
	dir    string
}

// startUAS runs sipp as the debtor's phone for one call: it answers,
// plays body (keys and pauses) and ends as end says. Skips without sipp
// (fails with HOTLINE_E2E=1).
func startUAS(t *testing.T, body, end string) *uas {
	t.Helper()
	bin := needTool(t, "sipp")
	tmpl, err := os.ReadFile(filepath.Join("testdata", "outbound_uas.xml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	u := &uas{port: freeUDPPort(t), exited: make(chan error, 1), out: &lockedBuffer{}, dir: t.TempDir()}
	sf := filepath.Join(u.dir, "callee.xml")
	x := strings.ReplaceAll(string(tmpl), "{{BODY}}", body)
	x = strings.ReplaceAll(x, "{{END}}", end)
	capture := ""
	if strings.Contains(end, "<!-- CAPTURE -->") {
		// The callee's BYE needs the dialog's From and To (sipp refuses
		// variables it assigns but never uses).
		capture = `
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="caller"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="callee"/>
    </action>
  `
	}
	x = strings.ReplaceAll(x, "{{CAPTURE}}", capture)
	if err := os.WriteFile(sf, []byte(x), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(u.port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)), "-rtp_echo",
		"-m", "1", "-nostdin", "-timeout", "150", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(u.dir, "errors.log"))
	cmd.Dir = u.dir
	cmd.Stdout, cmd.Stderr = u.out, u.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { u.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel() // ends a sipp still waiting when the test failed
		select {
		case err := <-u.exited:
			u.exited <- err
		case <-time.After(10 * time.Second):
			t.Error("sipp did not exit")
		}
	})
	// Poll until sipp holds its SIP port.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(u.port))
		if err != nil {
			return u
		}
		_ = c.Close()
		select {
		case err := <-u.exited:
			u.exited <- err
			t.Fatalf("sipp exited early: %v\n%s", err, u.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("sipp did not bind its port")
		}
		time.Sleep(10 * time.Millisecond) // polling another process
	}
}

// running reports whether sipp is still waiting for or in its call.
func (u *uas) running() bool {
	select {
	case err := <-u.exited:
		u.exited <- err
		return false
	default:
		return true
	}
}

// wait waits for sipp to finish its scenario successfully.
func (u *uas) wait(t *testing.T, within time.Duration, log fmt.Stringer) {
	t.Helper()
	select {
	case err := <-u.exited:
		u.exited <- err
		if err != nil {
			errs, _ := os.ReadFile(filepath.Join(u.dir, "errors.log"))
			t.Fatalf("sipp callee: %v\n%s\n%s\n--- hotline log:\n%s", err, errs, tail(u.out.String(), 2000), tail(log.String(), 8000))
		}
	case <-time.After(within):
		t.Fatalf("sipp callee did not finish within %v\n%s\n--- hotline log:\n%s", within, tail(u.out.String(), 2000), tail(log.String(), 8000))
	}
}

// lockedBuffer is a bytes.Buffer for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stringerOf adapts the served binary's log.
type stringerOf func() string

func (f stringerOf) String() string { return f() }

// api does one authorised request; it returns the status and the body.
func api(t *testing.T, base, method, path, ctype string, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// getJSON decodes the body of an authorised GET on the API at base into
// v; any status but 200 fails the test.
func getJSON(t *testing.T, base, path string, v any) {
	t.Helper()
	code, b := api(t, base, http.MethodGet, path, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
}

// ledger reads GET /api/v1/ledger.csv as rows keyed by the header.
func ledger(t *testing.T, base string) []map[string]string {
	t.Helper()
	code, b := api(t, base, http.MethodGet, "/api/v1/ledger.csv", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/ledger.csv: %d %s", code, b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("ledger CSV: %v\n%s", err, b)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			if i < len(r) {
				m[h] = r[i]
			}
		}
		rows = append(rows, m)
	}
	return rows
}

// ledgerOf keeps the rows whose column key is value.
func ledgerOf(rows []map[string]string, key, value string) []map[string]string {
	var out []map[string]string
	for _, r := range rows {
		if r[key] == value {
			out = append(out, r)
		}
	}
	return out
}

// callbackList reads GET /api/v1/callbacks.
func callbackList(t *testing.T, base string) []callbacks.Callback {
	t.Helper()
	var list struct{ Callbacks []callbacks.Callback }
	getJSON(t, base, "/api/v1/callbacks", &list)
	return list.Callbacks
}

// transcript renders a call's transcript.
func transcript(c httpapi.CallView) string {
	var b strings.Builder
	for _, l := range c.Transcript {
		b.WriteString(l.Who + ": " + l.Text + "\n")
	}
	return b.String()
}

// callRecording reads the one stereo recording in dir: left is what the
// callee sent (with -rtp_echo: what it received), right what the bot sent.
func callRecording(t *testing.T, dir string) (left, right []int16) {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".wav") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("recordings in %s: %v", dir, files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, right, rate, err := audio.ReadWAVStereo(f)
	if err != nil || rate != audio.Rate {
		t.Fatalf("recording: %v (rate %d)", err, rate)
	}
	return left, right
}

// voicedShare is the share of 20 ms frames of pcm[from:to] with
// speech-level energy (> −40 dBFS).
func voicedShare(pcm []int16, from, to time.Duration) float64 {
	v := voicedFrames(pcm)
	n, on := 0, 0
	for i := max(frameOf(from), 0); i < min(frameOf(to), len(v)); i++ {
		n++
		if v[i] {
			on++
		}
	}
	return float64(on) / float64(max(n, 1))
}

const frameLen = 20 * time.Millisecond

func frameOf(d time.Duration) int { return int(d / frameLen) }

// voicedFrames marks the 20 ms frames of pcm with speech-level energy.
func voicedFrames(pcm []int16) []bool {
	const n = audio.Rate / 50
	var out []bool
	for i := 0; i+n <= len(pcm); i += n {
		out = append(out, audio.DBFS(audio.RMS(pcm[i:i+n])) > -40)
	}
	return out
}

// received measures the bot's speech in [from, to) (voiced seconds of
// its channel) and which share of those frames reached the callee: the
// echoed channel is voiced within 100 ms of them.
func received(bot, echo []int16, from, to time.Duration) (spoke time.Duration, share float64) {
	b, e := voicedFrames(bot), voicedFrames(echo)
	const slack = 5 // frames
	n, got := 0, 0
	for i := max(frameOf(from), 0); i < min(frameOf(to), len(b)); i++ {
		if !b[i] {
			continue
		}
		n++
		for k := max(i-slack, 0); k <= min(i+slack, len(e)-1); k++ {
			if e[k] {
				got++
				break
			}
		}
	}
	return time.Duration(n) * frameLen, float64(got) / float64(max(n, 1))
}

// quietFrom returns the start of the first stretch of at least d without
// speech on pcm after from, or -1.
func quietFrom(pcm []int16, from, d time.Duration) time.Duration {
	v := voicedFrames(pcm)
	run := 0
	for i := max(frameOf(from), 0); i < len(v); i++ {
		if v[i] {
			run = 0
			continue
		}
		if run++; run >= frameOf(d) {
			return time.Duration(i+1-run) * frameLen
		}
	}
	return -1
}

// speechSpans lists the stretches of speech of pcm, for failure messages.
func speechSpans(pcm []int16) string {
	v := voicedFrames(pcm)
	var b strings.Builder
	start := -1
	for i := 0; i <= len(v); i++ {
		on := i < len(v) && v[i]
		if on && start < 0 {
			start = i
		}
		// Gaps under half a second are pauses within a sentence.
		if !on && start >= 0 && (i == len(v) || !slices.Contains(v[i:min(i+25, len(v))], true)) {
			fmt.Fprintf(&b, "[%v-%v] ", time.Duration(start)*frameLen, time.Duration(i)*frameLen)
			start = -1
		}
	}
	return b.String()
}

func seconds(pcm []int16) time.Duration { return time.Duration(len(pcm)) * time.Second / audio.Rate }

// fakeClock is the service clock of an in-process hotline: it stands
// still until Set, and counts reads so a test knows the dialer has looked
// for due work at the time set.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	reads int
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return c.t
}

// Set moves the clock to t and restarts the read count.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.reads = t, 0
}

// waitReads waits until the clock was read n times since Set.
func (c *fakeClock) waitReads(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		r := c.reads
		c.mu.Unlock()
		if r >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clock was read %d times in 10 s, want %d: the dialer is not polling", r, n)
		}
		time.Sleep(10 * time.Millisecond) // polling the dialer's loop
	}
}

// inProcess is `hotline serve` run inside the test with a fake clock:
// cmdServe's wiring (app.serve) on the embedded store.
type inProcess struct {
	*served
	a   *app
	log *lockedBuffer
}

// startInProcess builds the app from the embedded configuration plus env
// (HOTLINE_* pairs; the developer's environment is ignored), gives it
// clk and serves until the end of the test.
func startInProcess(t *testing.T, clk *fakeClock, env ...string) *inProcess {
	t.Helper()
	vars := map[string]string{
		"HOTLINE_HTTP_LISTEN": "127.0.0.1:0", "HOTLINE_SIP_LISTEN": "127.0.0.1:0",
		"HOTLINE_SIP_CONTACT_HOST": "127.0.0.1", "HOTLINE_API_TOKENS": apiToken,
		"HOTLINE_SIP_DRAIN_TIMEOUT": "2s",
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := configs.Load("", func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	p := &inProcess{log: &lockedBuffer{}}
	addrs := &addrWriter{w: p.log, http: make(chan string, 1), sip: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, newLogger(cfg, addrs), seed{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a.now = clk.Now
	p.a = a
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("serve did not stop\n%s", tail(p.log.String(), 4000))
		}
		a.close()
	})
	p.served = &served{stderr: p.log}
	deadline := time.After(30 * time.Second)
	for p.http == "" || p.sip == "" {
		select {
		case p.http = <-addrs.http:
		case p.sip = <-addrs.sip:
		case err := <-done:
			done <- err
			t.Fatalf("serve ended: %v\n%s", err, p.log)
		case <-deadline:
			t.Fatalf("serve did not report its addresses:\n%s", p.log)
		}
	}
	return p
}

// addrWriter passes log lines on and picks the listening addresses out.
type addrWriter struct {
	w         io.Writer
	http, sip chan string
}

var listeningRE = regexp.MustCompile(`msg="(http|sip) listening" addr=(\S+)`)

func (a *addrWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
			c := a.http
			if m[1] == "sip" {
				c = a.sip
			}
			select {
			case c <- m[2]:
			default:
			}
		}
	}
	return a.w.Write(p)
}
