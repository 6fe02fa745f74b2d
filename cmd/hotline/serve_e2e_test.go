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

	"hotline/assistant/httpapi"
	"hotline/telephony/audio"
)

const apiToken = "e2e-test-token-0123456789"

// served is a running `hotline serve` as the API and SIP helpers see it:
// its addresses and its log so far (stderr).
type served struct {
	http, sip string
	stderr    fmt.Stringer
}

// startServe runs the hotline binary (startInstance) for a test that
// never stops it itself: the process exiting with an error before the
// test's end fails the test.
func startServe(t *testing.T, env ...string) *served {
	t.Helper()
	in := startInstance(t, env...)
	t.Cleanup(func() { // runs before startInstance's, which stops the process
		select {
		case <-in.exited:
			if in.exitErr != nil {
				t.Errorf("hotline serve exited: %v\n%s", in.exitErr, in.logs)
			}
		default:
		}
	})
	return in.served
}

// calls lists the calls through the API.
func (s *served) calls(t *testing.T, state string) []httpapi.CallView {
	t.Helper()
	var out struct{ Calls []httpapi.CallView }
	getJSON(t, s.http, "/api/v1/calls?state="+state, &out)
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
	sf, err := filepath.Abs(scenario)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{s.sip, "-sf", sf, "-s", "hotline",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-l", "1", "-nostdin", "-timeout", "150", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
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

// debtorKeys are what the debtor of the main demo case keys: the case
// number, the date of birth, "1" for the debt.
const debtorKeys = "12345678#" + "02011980" + "1"

// listenToDebt is how long the caller stays on the line after the keys.
const listenToDebt = 14 * time.Second

// noticesPlay covers the greeting and the two mandatory notices with the
// built-in voice (1.8 s + 7.6 s + 24.8 s). No key interrupts the notices,
// so the callers of these tests start keying after them, when the case
// number question begins, as a caller who listens does.
const noticesPlay = 35 * time.Second

// callerScenario writes a sipp UAC scenario from the template with body
// between the ACK and the BYE.
func callerScenario(t *testing.T, body string, byeCSeq int) string {
	t.Helper()
	return scenarioFrom(t, "sipp_caller.xml.tmpl", body, byeCSeq)
}

// scenarioFrom fills a scenario template of testdata.
func scenarioFrom(t *testing.T, name, body string, byeCSeq int) string {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	x := strings.ReplaceAll(string(tmpl), "{{BODY}}", body)
	x = strings.ReplaceAll(x, "{{BYE_CSEQ}}", strconv.Itoa(byeCSeq))
	p := filepath.Join(t.TempDir(), "caller.xml")
	if err := os.WriteFile(p, []byte(x), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pause(d time.Duration) string {
	return fmt.Sprintf("  <pause milliseconds=\"%d\"/>\n", d.Milliseconds())
}

// rfc4733Body listens to the notices, keys with sipp's pcaps (PT 101),
// then listens.
func rfc4733Body(keys string) string {
	return pause(noticesPlay) + rfc4733Keys(keys) + pause(listenToDebt)
}

// rfc4733Keys keys with sipp's pcaps (PT 101). A new play_pcap_audio
// aborts the previous one, hence the pauses.
func rfc4733Keys(keys string) string {
	b := pause(300 * time.Millisecond)
	for _, k := range keys {
		name := map[rune]string{'#': "pound", '*': "star"}[k]
		if name == "" {
			name = string(k)
		}
		b += fmt.Sprintf("  <nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/dtmf_2833_%s.pcap\"/></action></nop>\n", name)
		b += pause(600 * time.Millisecond)
	}
	return b
}

// infoBody keys with SIP INFO (application/dtmf-relay); it returns the
// body and the CSeq left for the BYE.
func infoBody(keys string) (string, int) {
	b := pause(noticesPlay)
	cseq := 2
	for _, k := range keys {
		b += fmt.Sprintf(`  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+48221234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: %d INFO
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=%c
      Duration=160

    ]]>
  </send>
  <recv response="200"/>
`, cseq, k)
		b += pause(250 * time.Millisecond)
		cseq++
	}
	return b + pause(listenToDebt), cseq
}

// dtmfFreqs are the ITU-T Q.23 row and column tones of each key.
var dtmfFreqs = map[rune][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477},
	'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477},
	'*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477},
}

// inbandBody streams a µ-law file in which the keys are tones in the
// audio (no RFC 4733, no INFO), then silence while the caller listens.
func inbandBody(t *testing.T, keys string) string {
	t.Helper()
	const rate = 8000
	ms := func(d int) int { return rate * d / 1000 }
	pcm := audio.Silence(int(noticesPlay.Seconds()) * rate)
	for _, k := range keys {
		f := dtmfFreqs[k]
		tone := audio.Tone(f[0], -9, ms(120), rate)
		audio.Mix(tone, audio.Tone(f[1], -7, ms(120), rate))
		pcm = append(pcm, tone...)
		pcm = append(pcm, audio.Silence(ms(150))...)
	}
	pcm = append(pcm, audio.Silence(int(listenToDebt.Seconds())*rate)...)
	p := filepath.Join(t.TempDir(), "keys.ulaw")
	if err := os.WriteFile(p, audio.EncodeUlaw(nil, pcm), 0o600); err != nil {
		t.Fatal(err)
	}
	// rtp_stream sends the raw µ-law file as PT 0, 20 ms a packet.
	return pause(300*time.Millisecond) +
		fmt.Sprintf("  <nop><action><exec rtp_stream=\"%s,1,0\"/></action></nop>\n", p) +
		pause(time.Duration(len(pcm))*time.Second/rate)
}

// TestSIPDebtorKeysInAndHearsTheDebt: a debtor calls `hotline serve` from
// sipp and keys the case number, date of birth and "1" — as RFC 4733
// events from sipp's own pcaps, as SIP INFO, or as in-band tones only —
// and the assistant verifies them and tells the debt.
func TestSIPDebtorKeysInAndHearsTheDebt(t *testing.T) {
	needTool(t, "sipp")
	info, infoBye := infoBody(debtorKeys)
	tests := []struct {
		name     string
		scenario func(t *testing.T) string
		// echo: sipp sends the bot's RTP back, so the caller's channel of
		// the recording holds what sipp received.
		echo bool
	}{
		{"rfc4733", func(t *testing.T) string { return callerScenario(t, rfc4733Body(debtorKeys), 2) }, true},
		{"sip info", func(t *testing.T) string { return callerScenario(t, info, infoBye) }, true},
		{"in-band tones", func(t *testing.T) string { return callerScenario(t, inbandBody(t, debtorKeys), 2) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each its own hotline serve; the time is the caller's pauses
			recs := t.TempDir()
			s := startServe(t, "HOTLINE_RECORDING_DIR="+recs)
			var extra []string
			if tt.echo {
				extra = append(extra, "-rtp_echo")
			}
			runSipp(t, s, tt.scenario(t), extra...)
			checkDebtCall(t, s.waitEnded(t))
			checkRecording(t, recs, tt.echo)
		})
	}
}

// checkRecording reads the call's stereo recording: the bot spoke (right
// channel) for most of the call, and with sipp echoing, the caller's
// channel carries that speech back — the audio sipp received.
func checkRecording(t *testing.T, dir string, echo bool) {
	t.Helper()
	left, right := callRecording(t, dir)
	if d := time.Duration(len(right)) * time.Second / 8000; d < 15*time.Second {
		t.Fatalf("recording lasts %v", d)
	}
	// Share of 20 ms frames with speech-level energy (> −40 dBFS).
	voiced := func(pcm []int16) float64 {
		n, v := 0, 0
		for i := 0; i+160 <= len(pcm); i += 160 {
			n++
			if audio.DBFS(audio.RMS(pcm[i:i+160])) > -40 {
				v++
			}
		}
		return float64(v) / float64(max(n, 1))
	}
	t.Logf("recording: bot voiced %.0f%%, caller channel voiced %.0f%%", 100*voiced(right), 100*voiced(left))
	if v := voiced(right); v < 0.4 {
		t.Errorf("the bot spoke in %.0f%% of the call", 100*v)
	}
	if echo {
		if v := voiced(left); v < 0.3 {
			t.Errorf("sipp echoed speech in only %.0f%% of the call: it did not receive the bot's audio", 100*v)
		}
	}
}

func checkDebtCall(t *testing.T, call httpapi.CallView) {
	t.Helper()
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

// TestSIPTransferByRefer: a verified debtor presses 0 inside consultant
// hours and the assistant hands the call to the PBX queue with a blind
// REFER; the PBX (sipp) accepts, reports success by NOTIFY, and the
// assistant leaves the call. The session ends as transferred.
func TestSIPTransferByRefer(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel()
	s := startServe(t,
		"HOTLINE_CONSULTANTS_HOURS=mon-sun 00:00-24:00; hol 00:00-24:00",
		"HOTLINE_SIP_TRANSFER_MODE=refer", "HOTLINE_SIP_TRANSFER_TARGET=sip:queue@127.0.0.1")
	runSipp(t, s, scenarioFrom(t, "sipp_refer.xml.tmpl", pause(noticesPlay)+rfc4733Keys("12345678#"+"02011980"+"0"), 0), "-rtp_echo")
	call := s.waitEnded(t)
	if call.Verification != "verified" || call.Termination != "transferred:caller_request" {
		t.Fatalf("call = %+v", call)
	}
}
