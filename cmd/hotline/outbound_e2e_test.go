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

	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/httpapi"
	"hotline/assistant/outbound"
	"hotline/configs"
	"hotline/telephony/audio"
)

// End-to-end tests of outbound calls (issue 6): the assistant dials a
// sipp callee (UAS) that answers, keys its answers as RFC 4733 events and
// echoes the bot's RTP back (-rtp_echo), so the caller channel of the
// call's recording holds the audio the callee received.

// openWindow opens the calling window at any hour, holidays included, so
// the tests pass whenever they run.
const openWindow = "mon-sun 00:00-24:00; hol 00:00-24:00"

// theBalance is how the balance of the main demo case is spoken.
const theBalance = "tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy"

// rightPartyKeys: "1" yes, it is me; the date of birth; "1" the debt.
const rightPartyKeys = "1" + "02011980" + "1"

// listenToBalance is how long the callee stays on after its keys. The
// bot reads keys only between utterances and plays the notices and the
// confirmations in full: with the built-in pack it speaks for about 75 s
// (notices, right-party question, confirmations, menu, the debt, the menu
// again) and then waits for a key.
const listenToBalance = 75 * time.Second

// afterGreeting is when the callee starts keying: a key during the
// greeting would cut it (it allows barge-in), the notices after it take
// keys without stopping.
const afterGreeting = 3 * time.Second

// outboundEnv turns the dialer on against a callee at port.
func outboundEnv(port int, window string) []string {
	return []string{
		"HOTLINE_OUTBOUND_ENABLED=true",
		"HOTLINE_OUTBOUND_TARGET=sip:{phone}@127.0.0.1:" + strconv.Itoa(port),
		"HOTLINE_OUTBOUND_WINDOW=" + window,
		"HOTLINE_OUTBOUND_POLL=100ms", "HOTLINE_OUTBOUND_LEASE=30s", "HOTLINE_OUTBOUND_RING_TIMEOUT=10s",
	}
}

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

// dialNow asks POST /api/v1/calls/outbound to dial the case now; it
// returns the attempt job id.
func dialNow(t *testing.T, base, caseNumber string) string {
	t.Helper()
	code, b := api(t, base, http.MethodPost, "/api/v1/calls/outbound", "application/json", `{"case_number":"`+caseNumber+`"}`)
	if code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/calls/outbound: %d %s", code, b)
	}
	var out struct {
		AttemptID string `json:"attempt_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AttemptID == "" {
		t.Fatalf("POST /api/v1/calls/outbound: %s (%v)", b, err)
	}
	return out.AttemptID
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
	code, b := api(t, base, http.MethodGet, "/api/v1/callbacks", "", "")
	var list struct{ Callbacks []callbacks.Callback }
	if err := json.Unmarshal(b, &list); err != nil || code != http.StatusOK {
		t.Fatalf("GET /api/v1/callbacks: %d %v %s", code, err, b)
	}
	return list.Callbacks
}

// endedOutboundCall polls the calls API until the outbound call ended and
// returns its full record (GET /api/v1/calls/{id}).
func endedOutboundCall(t *testing.T, s *served, log fmt.Stringer) httpapi.CallView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, c := range s.calls(t, "ended") {
			if c.Direction != "outbound" {
				continue
			}
			code, b := api(t, s.http, http.MethodGet, "/api/v1/calls/"+c.ID, "", "")
			var v httpapi.CallView
			if err := json.Unmarshal(b, &v); err != nil || code != http.StatusOK {
				t.Fatalf("GET /api/v1/calls/%s: %d %v %s", c.ID, code, err, b)
			}
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ended outbound call\n%s", tail(log.String(), 8000))
		}
		time.Sleep(100 * time.Millisecond) // polling the asynchronous end of a real call
	}
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

// checkHeardTheBalance: the call is an outbound one, verified, the
// balance was disclosed and said, and the callee received the bot's
// audio: from the turn that told the debt on, the bot spoke for a good
// while (the rest of the notices, which keys do not cut, the debt and
// the menu) and nearly all of it reached the callee (the echoed channel).
func checkHeardTheBalance(t *testing.T, call httpapi.CallView, recs string) {
	t.Helper()
	said := transcript(call)
	if call.Direction != "outbound" || call.LegType != "sip" || call.Verification != "verified" || call.CaseNumber != "12345678" {
		t.Fatalf("call = %+v\n%s", call, said)
	}
	kinds := map[string]bool{}
	for _, d := range call.Disclosures {
		kinds[string(d.Kind)] = true
	}
	if !kinds["balance"] {
		t.Fatalf("disclosures = %+v", call.Disclosures)
	}
	var balanceAt time.Duration = -1
	for _, l := range call.Transcript {
		if l.Who == "bot" && strings.Contains(l.Text, theBalance) {
			balanceAt = l.At.Sub(call.StartedAt)
			break
		}
	}
	if balanceAt < 0 {
		t.Fatalf("the bot did not say the balance:\n%s", said)
	}
	left, right := callRecording(t, recs)
	// The bot tells the debt, offers the menu again and waits for the
	// callee: its first pause of 3 s after the debt turn ends what it said.
	quiet := quietFrom(right, balanceAt, 3*time.Second)
	if quiet < 0 {
		t.Fatalf("the bot never paused for the callee after the debt turn at %v (recording %v); it spoke in %s\n%s",
			balanceAt, seconds(right), speechSpans(right), said)
	}
	spoke, share := received(right, left, balanceAt, quiet)
	_, all := received(right, left, 0, quiet)
	t.Logf("recording %v; debt turn at %v; the bot spoke %v from then to its pause at %v, %.0f%% of it (%.0f%% of all it said) received by the callee",
		seconds(right).Round(time.Millisecond), balanceAt.Round(time.Millisecond), spoke, quiet, 100*share, 100*all)
	// The debt statement of the main demo case alone lasts over 10 s.
	if spoke < 10*time.Second {
		t.Errorf("the bot spoke only %v from the debt turn to its pause; it spoke in %s", spoke, speechSpans(right))
	}
	if share < 0.9 || all < 0.9 {
		t.Errorf("the callee received only %.0f%% of what the bot said from the debt turn on (%.0f%% of all)", 100*share, 100*all)
	}
}

// TestOutboundCallRightPartyHearsTheBalance: an operator asks for a call
// now (POST /api/v1/calls/outbound); `hotline serve` dials the case's
// phone through the configured target, a sipp callee answers, presses 1
// (it is me), keys the date of birth and 1 (the debt) as RFC 4733 events
// and hears the balance. The call record and the contact ledger say so.
func TestOutboundCallRightPartyHearsTheBalance(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel()
	callee := startUAS(t, pause(afterGreeting)+rfc4733Keys(rightPartyKeys)+pause(listenToBalance), calleeHangsUp)
	recs := t.TempDir()
	s := startServe(t, append(outboundEnv(callee.port, openWindow), "HOTLINE_RECORDING_DIR="+recs)...)
	log := stringerOf(s.stderr.String)
	attempt := dialNow(t, s.http, "12345678")
	callee.wait(t, 120*time.Second, log)

	call := endedOutboundCall(t, s, log)
	checkHeardTheBalance(t, call, recs)
	if call.Termination != "caller_hung_up" {
		t.Errorf("termination = %q", call.Termination)
	}
	rows := ledgerOf(ledger(t, s.http), "attempt_id", attempt+"-1")
	if len(rows) != 2 || rows[0]["event"] != "dial" || rows[1]["event"] != "outcome" ||
		rows[1]["outcome"] != string(outbound.OutcomeRightParty) || rows[1]["case_number"] != "12345678" {
		t.Fatalf("ledger rows of the attempt: %v", rows)
	}
}

// TestOutboundGateRefusesOutsideTheWindow: with a calling window that is
// closed now, POST /api/v1/calls/outbound answers 409 with the rule and
// when it may retry, and nothing is dialled.
func TestOutboundGateRefusesOutsideTheWindow(t *testing.T) {
	t.Parallel()
	now := time.Now().In(mustWarsaw(t))
	// A one-hour window that does not contain now (holidays too: "hol").
	h := (now.Hour() + 2) % 24
	window := fmt.Sprintf("mon-sun %02d:00-%02d:00; hol %02d:00-%02d:00", h, h+1, h, h+1)
	s := startServe(t, outboundEnv(freeUDPPort(t), window)...)
	code, b := api(t, s.http, http.MethodPost, "/api/v1/calls/outbound", "application/json", `{"case_number":"12345678"}`)
	var body struct {
		Error   string    `json:"error"`
		Rule    string    `json:"rule"`
		RetryAt time.Time `json:"retry_at"`
	}
	if err := json.Unmarshal(b, &body); err != nil || code != http.StatusConflict {
		t.Fatalf("POST /api/v1/calls/outbound at %s with window %q: %d %s", now.Format("15:04"), window, code, b)
	}
	want := outbound.RuleWindow
	if hol, _ := calendar.IsHoliday(now); hol {
		want = outbound.RuleHoliday // closed hours on a holiday are named so
	}
	if body.Rule != want || body.Error == "" {
		t.Errorf("refusal %+v, want rule %s", body, want)
	}
	if lt := body.RetryAt.In(now.Location()); lt.Hour() != h || lt.Minute() != 0 || !lt.After(now) || lt.Sub(now) > 24*time.Hour {
		t.Errorf("retry_at %s, want the next %02d:00 (now %s)", lt, h, now)
	}
	if rows := ledger(t, s.http); len(rows) != 0 {
		t.Errorf("a refused request wrote the ledger: %v", rows)
	}
}

func mustWarsaw(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

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
	p.served = &served{stderr: &strings.Builder{}}
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

// bookCallback books a callback for the main demo case at the first free
// slot through POST /api/v1/callbacks and returns it.
func bookCallback(t *testing.T, p *inProcess) callbacks.Callback {
	t.Helper()
	slots, err := p.a.cbs.Slots(t.Context(), time.Now(), 1)
	if err != nil || len(slots) != 1 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	body := fmt.Sprintf(`{"phone":"+48601234567","case_number":"12345678","at":%q}`, slots[0].Format(time.RFC3339))
	code, b := api(t, p.http, http.MethodPost, "/api/v1/callbacks", "application/json", body)
	var cb callbacks.Callback
	if err := json.Unmarshal(b, &cb); err != nil || code != http.StatusCreated || !cb.At.Equal(slots[0]) {
		t.Fatalf("POST /api/v1/callbacks: %d %v %s", code, err, b)
	}
	return cb
}

// dialledAtTheSlot moves the clock to a second before the callback's
// slot, checks the dialer polled at that time and dialled nothing, then
// moves it to the slot and checks the dial happens, stamped with the slot.
func dialledAtTheSlot(t *testing.T, p *inProcess, clk *fakeClock, callee *uas, cb callbacks.Callback) {
	t.Helper()
	clk.Set(cb.At.Add(-time.Second))
	clk.waitReads(t, 6) // three passes at least (requeue + claim each)
	if rows := ledgerOf(ledger(t, p.http), "callback_id", cb.ID); len(rows) != 0 || !callee.running() {
		t.Fatalf("dialled before the slot: ledger %v, callee running %v", rows, callee.running())
	}
	if list := callbackList(t, p.http); len(list) != 1 || list[0].ID != cb.ID || list[0].Status != callbacks.StatusScheduled {
		t.Fatalf("before the slot the callbacks are %+v", list)
	}
	clk.Set(cb.At)
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := ledgerOf(ledger(t, p.http), "callback_id", cb.ID)
		if len(rows) > 0 {
			if rows[0]["event"] != "dial" || rows[0]["at"] != cb.At.UTC().Format(time.RFC3339) || rows[0]["case_number"] != "12345678" {
				t.Fatalf("first ledger row of the callback %v, want a dial at %s", rows[0], cb.At.UTC().Format(time.RFC3339))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not dialled 10 s after the clock reached the slot\n%s", tail(p.log.String(), 8000))
		}
		time.Sleep(50 * time.Millisecond) // polling the dialer
	}
}

// TestOutboundCallbackDialledAtItsSlot: a callback booked through the API
// for a future slot is not dialled while the (injected) clock is before
// the slot, is dialled when the clock reaches it, and the callee passes
// the right-party check and verification and hears the balance.
func TestOutboundCallbackDialledAtItsSlot(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel()
	callee := startUAS(t, pause(afterGreeting)+rfc4733Keys(rightPartyKeys)+pause(listenToBalance), calleeHangsUp)
	recs := t.TempDir()
	clk := newFakeClock(time.Now())
	p := startInProcess(t, clk, append(outboundEnv(callee.port, openWindow), "HOTLINE_RECORDING_DIR="+recs,
		"HOTLINE_CALLBACKS_HOURS="+openWindow)...)
	cb := bookCallback(t, p)
	dialledAtTheSlot(t, p, clk, callee, cb)
	callee.wait(t, 120*time.Second, p.log)
	checkHeardTheBalance(t, endedOutboundCall(t, p.served, p.log), recs)
	waitCallback(t, p, cb.ID, callbacks.StatusDone, string(outbound.OutcomeRightParty))
}

// waitCallback polls the callback's record until it has status and
// outcome. It reads the store: GET /api/v1/callbacks lists only the
// callbacks still due.
func waitCallback(t *testing.T, p *inProcess, id, status, outcome string) callbacks.Callback {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		last, err := p.a.cbs.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if last.Status == status && last.Outcome == outcome {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("callback %+v, want %s/%s", last, status, outcome)
		}
		time.Sleep(50 * time.Millisecond) // polling the dialer's conclusion
	}
}

// TestOutboundWrongPartyHearsNothing: it is Friday 19:50 in Warsaw (the
// injected clock) and the window is the default Mon–Fri 08:00–20:00. The
// callee presses 2 (I am someone else): it hears only the greeting, the
// notices, the question and a goodbye; nothing about the case is said or
// disclosed; the ledger records wrong-party; the retry is planned inside
// the window (Monday 08:00, not 20:05 on Friday).
func TestOutboundWrongPartyHearsNothing(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel()
	warsaw := mustWarsaw(t)
	var at, monday time.Time // the next Friday 19:50 and Monday 08:00 that are working days
	for d := time.Now().In(warsaw); ; d = d.AddDate(0, 0, 1) {
		at = time.Date(d.Year(), d.Month(), d.Day(), 19, 50, 0, 0, warsaw)
		monday = time.Date(d.Year(), d.Month(), d.Day()+3, 8, 0, 0, 0, warsaw)
		fri, _ := calendar.IsHoliday(at)
		mon, _ := calendar.IsHoliday(monday)
		if at.Weekday() == time.Friday && !fri && !mon {
			break
		}
	}
	callee := startUAS(t, pause(afterGreeting)+rfc4733Keys("2"), botHangsUp)
	recs := t.TempDir()
	clk := newFakeClock(at)
	p := startInProcess(t, clk, append(outboundEnv(callee.port, "mon-fri 08:00-20:00"), "HOTLINE_RECORDING_DIR="+recs)...)
	attempt := dialNow(t, p.http, "12345678")
	callee.wait(t, 90*time.Second, p.log)

	call := endedOutboundCall(t, p.served, p.log)
	said := transcript(call)
	if call.Verification != "none" || call.CaseNumber != "" || len(call.Disclosures) != 0 {
		t.Fatalf("wrong party: call %+v\n%s", call, said)
	}
	for _, never := range []string{"złot", "grosz", "Bank", "rachunk", "12345678", "Kowalsk"} {
		if strings.Contains(said, never) {
			t.Errorf("the wrong party was told %q:\n%s", never, said)
		}
	}
	if !strings.HasPrefix(call.Termination, "bot_hung_up") {
		t.Errorf("termination = %q", call.Termination)
	}
	left, right := callRecording(t, recs)
	spoke, share := received(right, left, 0, seconds(right))
	t.Logf("wrong party: call %v, the bot spoke %v, %.0f%% of it received by the callee\n%s",
		seconds(right).Round(time.Millisecond), spoke, 100*share, said)
	if share < 0.9 || spoke < 3*time.Second {
		t.Errorf("the callee received %.0f%% of %v of speech", 100*share, spoke)
	}
	if spoke > wrongPartyAudio {
		t.Errorf("the wrong party heard %v of speech, more than the greeting, notices, question and goodbye", spoke)
	}

	rows := ledgerOf(ledger(t, p.http), "attempt_id", attempt+"-1")
	if len(rows) != 2 || rows[0]["event"] != "dial" || rows[0]["at"] != at.UTC().Format(time.RFC3339) ||
		rows[1]["outcome"] != string(outbound.OutcomeWrongParty) {
		t.Fatalf("ledger rows of the attempt: %v", rows)
	}
	// The retry: read back through the scheduler on the app's store.
	sched := outbound.NewScheduler(p.a.rdb, p.a.cfg.Redis.Prefix, nil, outbound.SchedulerConfig{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := sched.Get(t.Context(), attempt)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == outbound.StatusRetry {
			if j.Outcome != outbound.OutcomeWrongParty || j.Attempts != 1 || !j.DueAt.Equal(monday) {
				t.Fatalf("retry %+v, want wrong-party, 1 attempt, due %s", j, monday)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %+v: no retry planned", j)
		}
		time.Sleep(50 * time.Millisecond) // polling the dialer's conclusion
	}
}

// TestOutboundFormCallbackDialledInBrowser: a person asks for a callback
// through /oddzwonienie in headless Chromium; with the clock moved to the
// chosen slot the assistant calls them, they confirm, verify by keypad and
// hear the balance.
func TestOutboundFormCallbackDialledInBrowser(t *testing.T) {
	needTool(t, "sipp")
	if !inPrivateNetwork(t) {
		return
	}
	callee := startUAS(t, pause(afterGreeting)+rfc4733Keys(rightPartyKeys)+pause(listenToBalance), calleeHangsUp)
	recs := t.TempDir()
	clk := newFakeClock(time.Now())
	p := startInProcess(t, clk, append(outboundEnv(callee.port, openWindow), "HOTLINE_RECORDING_DIR="+recs,
		"HOTLINE_CALLBACKS_HOURS="+openWindow)...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := runBrowser(ctx, t, "form.mjs", map[string]string{"URL": "http://" + p.http}, nil)
	chosen, _ := run.Result["chosen"].(string)
	list := callbackList(t, p.http)
	if len(list) != 1 || list[0].Source != callbacks.SourceForm || list[0].At.Format(time.RFC3339) != chosen ||
		list[0].Phone != "+48601234567" || list[0].CaseNumber != "12345678" {
		t.Fatalf("form chose %q; stored %+v\n%s", chosen, list, run.Output)
	}
	dialledAtTheSlot(t, p, clk, callee, list[0])
	callee.wait(t, 120*time.Second, p.log)
	checkHeardTheBalance(t, endedOutboundCall(t, p.served, p.log), recs)
	waitCallback(t, p, list[0].ID, callbacks.StatusDone, string(outbound.OutcomeRightParty))
}

// wrongPartyAudio bounds the speech a wrong party hears: the greeting,
// the notices and the goodbye took 31 s with the built-in pack; the debt
// statement alone would add over 10 s.
const wrongPartyAudio = 36 * time.Second
