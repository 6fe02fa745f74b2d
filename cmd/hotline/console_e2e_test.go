package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/assistant/callbacks"
	"hotline/assistant/httpapi"
	"hotline/dialogs"
	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/sipgw"
	"hotline/telephony/telephonytest"
)

// Consultant console end-to-end tests (issue 5, acceptance 2 and 3). The
// SIP caller is a phone in the test process: a sipgw server that dials
// `hotline serve`, keys in with in-band DTMF, talks with a 440 Hz tone
// and decodes everything it hears, so the test can tell the consultant's
// voice (the browser's fake microphone, 1000 Hz) from the assistant's.

// consoleEnv are the serve settings of these tests: consultants work
// around the clock, the console cookie works over plain HTTP, SIP
// transfers go to the console's queue (no transfer target).
var consoleEnv = []string{
	"HOTLINE_CONSULTANTS_HOURS=mon-sun 00:00-24:00; hol 00:00-24:00",
	"HOTLINE_CONSOLE_COOKIE_SECURE=false",
	"HOTLINE_SIP_TRANSFER_TARGET=",
}

// askForConsultant: the demo debtor's case number and date of birth,
// then "0" for a consultant (typed ahead: the flow takes each answer as
// its question comes).
const askForConsultant = "12345678#" + "02011980" + "0"

// phone is the test's SIP caller.
type phone struct {
	leg telephony.Leg
	out *phoneVoice

	mu    sync.Mutex
	heard []audio.Frame // after mark
	mark  atomic.Bool
}

// phoneVoice is what the phone says: queued key tones, else a soft
// 440 Hz tone (the caller talking).
type phoneVoice struct {
	mu    sync.Mutex
	queue []int16
	n     int
}

func (v *phoneVoice) keys(keys string) {
	const rate = audio.Rate
	ms := func(d int) int { return rate * d / 1000 }
	pcm := audio.Silence(ms(300))
	for _, k := range keys {
		f := dtmfFreqs[k]
		tone := audio.Tone(f[0], -9, ms(120), rate)
		audio.Mix(tone, audio.Tone(f[1], -7, ms(120), rate))
		pcm = append(pcm, tone...)
		pcm = append(pcm, audio.Silence(ms(150))...)
	}
	v.mu.Lock()
	v.queue = append(v.queue, pcm...)
	v.mu.Unlock()
}

// ReadFrame implements telephony.FrameSource.
func (v *phoneVoice) ReadFrame(f *audio.Frame) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.queue) > 0 {
		n := copy(f[:], v.queue)
		v.queue = v.queue[n:]
		clear(f[n:])
		return nil
	}
	for i := range f {
		f[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(v.n)/audio.Rate))
		v.n++
	}
	return nil
}

// dial calls the served hotline from a SIP phone in this process.
func dial(t *testing.T, s *served) *phone {
	t.Helper()
	srv, err := sipgw.New(sipgw.Config{
		Listen: "127.0.0.1:0", ContactHost: "127.0.0.1", RTPPortMin: 30000, RTPPortMax: 30200,
		MediaTimeout: 60 * time.Second, MediaTimeoutInitial: 60 * time.Second,
	}, telephony.HandlerFunc(func(context.Context, telephony.Leg) error { return nil }), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("SIP phone not ready")
	}
	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	defer dcancel()
	leg, err := srv.Dial(dctx, "sip:hotline@"+s.sip, nil)
	if err != nil {
		t.Fatalf("dial hotline: %v\n%s", err, s.stderr)
	}
	p := &phone{leg: leg, out: &phoneVoice{}}
	go func() { _ = leg.Play(ctx, p.out) }()
	go func() {
		var f audio.Frame
		for leg.ReadAudio(ctx, &f) == nil {
			if p.mark.Load() {
				p.mu.Lock()
				p.heard = append(p.heard, f)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { p.hangup() })
	return p
}

// hangup is the caller putting the phone down: BYE to the hotline. (In
// sipgw's terms it is our own hang-up; CauseCallerHangup would mean the
// far end had already left, and no BYE would be sent.)
func (p *phone) hangup() {
	_ = p.leg.Hangup(context.Background(), telephony.CauseBotHangup)
}

// toneFrames counts heard frames that are clearly a tone at hz: loud
// enough, and most of their energy at that frequency (Goertzel).
func (p *phone) toneFrames(hz float64) (tone, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.heard {
		var energy float64
		for _, s := range f {
			energy += float64(s) * float64(s)
		}
		if math.Sqrt(energy/float64(len(f))) < 300 {
			continue
		}
		if telephonytest.ToneShare(f[:], hz) > 0.5 {
			tone++
		}
	}
	return tone, len(p.heard)
}

// liveCall waits for the one live call whose transcript contains want.
func (s *served) liveCall(t *testing.T, want string, within time.Duration) httpapi.CallView {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, c := range s.calls(t, "") {
			for _, l := range c.Transcript {
				if strings.Contains(l.Text, want) {
					return c
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call said %q within %s\n%s", want, within, tail(s.stderr.String(), 6000))
		}
		time.Sleep(200 * time.Millisecond) // polling a real server's asynchronous progress
	}
}

// TestConsoleConsultantAnswersSIPCaller (acceptance 2): a SIP caller
// verifies and asks for a consultant; the consultant, logged into
// /console in Chromium, sees the screen-pop with the case number,
// answers, and each side hears the other.
func TestConsoleConsultantAnswersSIPCaller(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	s := startServe(t, append(consoleEnv, "HOTLINE_WEBRTC_LOOPBACK_ONLY=true")...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var caller *phone
	var callerMu sync.Mutex
	dialed := make(chan struct{})
	run := runBrowser(ctx, t, "console_call.mjs", map[string]string{
		"URL": "http://" + s.http, "FAKE_AUDIO": fakeMicrophone(t, 1000, 30),
		"CONSULTANT": "konsultant", "CONSULTANT_PASSWORD": "demo-konsultant",
		"SUPERVISOR": "kierownik", "SUPERVISOR_PASSWORD": "demo-kierownik",
	}, func(line string) {
		switch line {
		case "READY":
			go func() {
				defer close(dialed)
				p := dial(t, s)
				// Hear the debt first, so the screen-pop lists what the
				// assistant disclosed; then ask for a consultant.
				p.out.keys(debtorKeys)
				s.liveCall(t, "złotych", 90*time.Second)
				p.out.keys("0")
				callerMu.Lock()
				caller = p
				callerMu.Unlock()
			}()
		case "CONNECTED":
			<-dialed
			caller.mark.Store(true)
		}
	})
	<-dialed
	if caller == nil {
		t.Fatalf("the SIP caller never got through\n%s", run.Output)
	}
	t.Logf("browser: %v", run.Result)
	if got := run.Result["case"]; got != "12345678" {
		t.Errorf("screen-pop case number %v, want 12345678\n%s", got, run.Output)
	}
	if got, _ := run.Result["name"].(string); got == "" || got == "—" {
		t.Errorf("screen-pop debtor name %q", got)
	}
	if d, _ := run.Result["disclosed"].([]any); len(d) == 0 || !strings.Contains(fmt.Sprint(d), "Saldo") {
		t.Errorf("screen-pop disclosures %v, want the balance", d)
	}
	if n, _ := run.Result["transcript"].(float64); n < 3 {
		t.Errorf("screen-pop transcript has %v lines", n)
	}
	cands, _ := run.Result["candidates"].(map[string]any)
	sent, _ := cands["sent"].(float64)
	received, _ := cands["received"].(float64)
	if sent < 1 || received < 1 {
		t.Errorf("the consultant's page trickled ICE candidates %v; want some sent and received", cands)
	}
	stats, _ := run.Result["stats"].(map[string]any)
	if p, _ := stats["packets"].(float64); p < 150 {
		t.Errorf("the consultant's page received %v packets from the caller", stats["packets"])
	}
	if e, _ := stats["energy"].(float64); e < 0.05 {
		t.Errorf("the consultant's page heard no caller audio (totalAudioEnergy %v)", stats["energy"])
	}
	tone, total := caller.toneFrames(1000)
	t.Logf("SIP caller heard %d frames after the answer, %d of them the consultant's 1000 Hz tone", total, tone)
	if tone < 50 {
		t.Errorf("the SIP caller heard only %d frames of the consultant's microphone (of %d)", tone, total)
	}
	// The call ended with the consultant's hang-up: recorded as transferred.
	call := s.waitEnded(t)
	if !strings.HasPrefix(call.Termination, string(telephony.CauseTransferred)) {
		t.Errorf("termination %q, want %q", call.Termination, telephony.CauseTransferred)
	}
	// The consultant's note is part of the call's record in the API.
	if notes := s.call(t, call.ID).Notes; len(notes) != 1 || notes[0].By != "konsultant" ||
		!strings.Contains(notes[0].Text, "rozłożenie na raty") {
		t.Errorf("GET /api/v1/calls/%s notes = %+v, want the consultant's note", call.ID, notes)
	}
}

// call reads one call through the API (GET /api/v1/calls/{id}: with the
// consultants' notes).
func (s *served) call(t *testing.T, id string) httpapi.CallView {
	t.Helper()
	var v httpapi.CallView
	getJSON(t, s.http, "/api/v1/calls/"+url.PathEscape(id), &v)
	return v
}

// saysAfter waits until the call's transcript, from line from on, has a
// line containing want.
func (s *served) saysAfter(t *testing.T, id string, from int, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		lines := s.call(t, id).Transcript
		for _, l := range lines[min(from, len(lines)):] {
			if strings.Contains(l.Text, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call did not say %q within %s after line %d:\n%s", want, within, from, transcriptText(lines[min(from, len(lines)):]))
		}
		time.Sleep(200 * time.Millisecond) // polling a real server's asynchronous progress
	}
}

// listen forgets what the phone heard so far and records from now on.
func (p *phone) listen() {
	p.mu.Lock()
	p.heard = nil
	p.mu.Unlock()
	p.mark.Store(true)
}

// loudFrames counts heard frames with clearly audible sound.
func (p *phone) loudFrames() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.heard {
		if audio.RMS(f[:]) >= 300 {
			n++
		}
	}
	return n
}

// TestConsoleBackToAssistantBooksCallback: the consultant answers a SIP
// caller in the console, then presses "Do asystenta (oddzwonienie)"; the
// consultant's leg is hung up, the caller hears the assistant again (and
// no longer the consultant), is offered callback slots, books one with
// the keypad, and the callback is stored; the consultant's note written
// after the handback is in the call's record.
func TestConsoleBackToAssistantBooksCallback(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	s := startServe(t, append(consoleEnv, "HOTLINE_WEBRTC_LOOPBACK_ONLY=true")...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const note = "Klient wraca do asystenta, prosi o oddzwonienie po 17."
	var (
		caller *phone
		callID string
		before int // transcript lines when the consultant answered
	)
	dialed := make(chan struct{})
	run := runBrowser(ctx, t, "console_back.mjs", map[string]string{
		"URL": "http://" + s.http, "FAKE_AUDIO": fakeMicrophone(t, 1000, 30),
		"CONSULTANT": "konsultant", "CONSULTANT_PASSWORD": "demo-konsultant", "NOTE": note,
	}, func(line string) {
		switch line {
		case "READY":
			go func() {
				defer close(dialed)
				p := dial(t, s)
				p.out.keys(debtorKeys)
				c := s.liveCall(t, "złotych", 90*time.Second)
				p.out.keys("0")
				caller, callID = p, c.ID
			}()
		case "CONNECTED":
			<-dialed
			if caller != nil {
				before = len(s.call(t, callID).Transcript)
			}
		case "BACK":
			if caller != nil {
				caller.listen()
			}
		}
	})
	<-dialed
	if caller == nil {
		t.Fatalf("the SIP caller never got through\n%s", run.Output)
	}
	t.Logf("browser: %v", run.Result)
	if run.Result["pcClosed"] != true {
		t.Errorf("the consultant's page kept its call after the handback: %v", run.Result)
	}

	// The assistant takes the caller back and offers callback slots; the
	// caller books the first.
	// The transcript has a reply as soon as it is decided; the caller
	// hears it over the next seconds: wait for 2 s of the assistant's
	// voice before keying (a key would cut the prompt short).
	s.saysAfter(t, callID, before, "Opcja numer jeden", 60*time.Second)
	var loud, tone, total int
	for deadline := time.Now().Add(30 * time.Second); ; {
		loud = caller.loudFrames()
		tone, total = caller.toneFrames(1000)
		if loud-tone >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling the phone's decoded audio
	}
	t.Logf("after the handback the SIP caller heard %d frames: %d loud, %d of them the consultant's tone", total, loud, tone)
	if loud-tone < 100 {
		t.Errorf("the caller heard only %d loud frames of the assistant after the handback", loud-tone)
	}
	if tone > 10 {
		t.Errorf("the caller still heard the consultant after the handback (%d frames of 1000 Hz)", tone)
	}
	caller.out.keys("1")
	s.saysAfter(t, callID, before, "Zadzwonimy do Pana lub Pani", 30*time.Second)
	caller.hangup()

	ended := s.waitEnded(t)
	if ended.ID != callID {
		t.Fatalf("ended call %s, want %s", ended.ID, callID)
	}
	if ended.Termination != string(telephony.CauseCallerHangup) {
		t.Errorf("termination %q, want %q: the caller hung up on the assistant\n%s", ended.Termination, telephony.CauseCallerHangup, tail(s.stderr.String(), 8000))
	}
	booked := false
	for _, d := range ended.Disclosures {
		booked = booked || d.Kind == dialogs.DiscloseCallback
	}
	if !booked {
		t.Errorf("no callback disclosed in the call: %+v\n%s", ended.Disclosures, transcriptText(ended.Transcript))
	}
	if cbs := callbackList(t, s.http); !slices.ContainsFunc(cbs, func(c callbacks.Callback) bool {
		return c.CallID == callID && c.CaseNumber == "12345678" && c.Status == callbacks.StatusScheduled
	}) {
		t.Errorf("no scheduled callback stored for the call: %+v", cbs)
	}
	if notes := s.call(t, callID).Notes; len(notes) != 1 || notes[0].Text != note || notes[0].By != "konsultant" {
		t.Errorf("notes in the call's record: %+v", notes)
	}
}

// TestConsoleQueueTimeoutOffersCallback (acceptance 3): nobody is
// available, the caller waits in the queue until the timeout, then the
// assistant offers a callback, which the caller books.
func TestConsoleQueueTimeoutOffersCallback(t *testing.T) {
	s := startServe(t, append(consoleEnv, "HOTLINE_CONSOLE_QUEUE_TIMEOUT=15s")...)
	p := dial(t, s)
	p.mark.Store(true)
	p.out.keys(askForConsultant)
	call := s.liveCall(t, "Opcja numer jeden", 90*time.Second)
	tone, _ := p.toneFrames(425) // the hold tone between announcements
	if tone == 0 {
		t.Errorf("the caller heard no hold tone while waiting")
	}
	p.out.keys("1")
	s.liveCall(t, "Zadzwonimy do Pana lub Pani", 30*time.Second)
	p.hangup()
	ended := s.waitEnded(t)
	if ended.ID != call.ID {
		t.Fatalf("ended call %s, want %s", ended.ID, call.ID)
	}
	text := transcriptText(ended.Transcript)
	if !strings.Contains(text, "nie udało się połączyć z konsultantem") {
		t.Errorf("no apology after the queue timeout:\n%s", text)
	}
	booked := false
	for _, d := range ended.Disclosures {
		booked = booked || d.Kind == dialogs.DiscloseCallback
	}
	if !booked {
		t.Errorf("no callback stored with the call: %+v\n%s", ended.Disclosures, text)
	}
}
