package sipgw

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

// Tones of the bridge tests, one per party, so each hears who it should.
const (
	callerFreq     = 1000 // the phone (caller)
	consultantFreq = 700  // the consultant
	botFreq        = 600  // the bot, once a transfer failed
)

// botResult is what the bot's handler saw of its transfer.
type botResult struct {
	err    error
	stolen int32 // caller-tone frames the handler's ReadAudio got
	digits int   // DTMF events delivered to the handler
}

// bridgeRig is a caller (phone) → bot (bridge mode) → consultant set-up,
// three Servers on 127.0.0.1.
type bridgeRig struct {
	bot, cons, phone *gateway
	consLegs         chan telephony.Leg
	results          chan botResult
}

func startBridgeRig(t *testing.T, botCfg, consCfg Config, req telephony.TransferRequest) *bridgeRig {
	t.Helper()
	r := &bridgeRig{consLegs: make(chan telephony.Leg, 1), results: make(chan botResult, 1)}
	r.cons = startGateway(t, consCfg, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
		r.consLegs <- leg
		<-leg.Done()
		return nil
	}))
	botCfg.TransferMode = TransferBridge
	if botCfg.TransferTarget == "" {
		botCfg.TransferTarget = r.cons.uri("konsultant")
	}
	r.bot = startGateway(t, botCfg, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
		// Like the assistant, the handler reads the caller's audio all
		// along; the bridge must keep it off while bridged.
		var stolen atomic.Int32
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			var f audio.Frame
			for leg.ReadAudio(ctx, &f) == nil {
				if audio.RMS(f[:]) > 1000 && telephonytest.ToneShare(f[:], callerFreq) > 0.8 {
					stolen.Add(1)
				}
			}
		}()
		err := leg.Transfer(ctx, req)
		if errors.Is(err, telephony.ErrTransferFailed) {
			_ = leg.Play(ctx, toneSource(botFreq, 20*time.Second)) // until the caller hangs up
		}
		<-readDone
		res := botResult{err: err}
		for ev := range leg.Events() {
			if ev.Kind == telephony.EventDTMF {
				res.digits++
			}
		}
		res.stolen = stolen.Load()
		r.results <- res
		return nil
	}))
	r.phone = startPhone(t, Config{})
	return r
}

func (r *bridgeRig) result(t *testing.T) botResult {
	t.Helper()
	select {
	case res := <-r.results:
		return res
	case <-time.After(testTimeout):
		t.Fatal("the bot's handler did not finish")
		return botResult{}
	}
}

func (r *bridgeRig) consultant(t *testing.T) telephony.Leg {
	t.Helper()
	select {
	case leg := <-r.consLegs:
		return leg
	case <-time.After(testTimeout):
		t.Fatal("the consultant was not called")
		return nil
	}
}

// play runs leg.Play in the background; the returned func waits for it.
func play(ctx context.Context, leg telephony.Leg, src telephony.FrameSource) (wait func()) {
	done := make(chan struct{})
	go func() { defer close(done); _ = leg.Play(ctx, src) }()
	return func() { <-done }
}

// TestBridgeTransfer: the bot dials the consultant with the context
// headers (made header-safe), the caller hears ringback, then each party
// hears the other; the caller's digits are not delivered to the handler;
// either hangup ends both legs, all recorded as transferred.
func TestBridgeTransfer(t *testing.T) {
	for _, hangsUp := range []string{"caller", "consultant"} {
		t.Run(hangsUp+" hangs up", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			req := telephony.TransferRequest{Headers: map[string]string{
				"X-Hotline-Case": "A/123\r\nInjected: yes",
				"X-Hotline-Lang": " pl ",
				"Subject":        "not an X- header",
			}}
			r := startBridgeRig(t, Config{}, Config{RingTime: 1200 * time.Millisecond}, req)
			leg, err := r.phone.Dial(ctx, r.bot.uri("bot"), nil)
			if err != nil {
				t.Fatal(err)
			}
			waitTone(ctx, t, leg, ringbackFreq, 10) // while the consultant rings

			cons := r.consultant(t)
			inv := cons.(*call).uas.InviteRequest
			if h := inv.GetHeader("X-Hotline-Case"); h == nil || h.Value() != "A/123Injected: yes" {
				t.Errorf("X-Hotline-Case = %v, want the value without CR/LF", h)
			}
			if h := inv.GetHeader("X-Hotline-Lang"); h == nil || h.Value() != "pl" {
				t.Errorf("X-Hotline-Lang = %v", h)
			}
			if inv.GetHeader("Injected") != nil || inv.GetHeader("Subject") != nil {
				t.Error("a header was injected, or a non-X- header passed")
			}

			waitCons := play(ctx, cons, toneSource(consultantFreq, 20*time.Second))
			waitTone(ctx, t, leg, consultantFreq, 25) // the caller hears the consultant
			waitPhone := play(ctx, leg, toneSource(callerFreq, 20*time.Second))
			waitTone(ctx, t, cons, callerFreq, 25) // the consultant hears the caller
			sendRFC4733(t, leg, '5', ptOfferDTMF)  // not for the bot any more

			hangupAt := time.Now()
			if hangsUp == "caller" {
				err = leg.Hangup(ctx, telephony.CauseBotHangup)
			} else {
				err = cons.Hangup(ctx, telephony.CauseBotHangup)
			}
			if err != nil {
				t.Fatal(err)
			}
			waitPhone()
			waitCons()
			select {
			case <-leg.Done():
			case <-ctx.Done():
				t.Fatal("the caller's leg did not end")
			}
			select {
			case <-cons.Done():
			case <-ctx.Done():
				t.Fatal("the consultant's leg did not end")
			}
			if d := time.Since(hangupAt); d > 3*time.Second {
				t.Errorf("the other side ended %v after the hangup", d)
			}

			res := r.result(t)
			if res.err != nil {
				t.Errorf("Transfer = %v, want nil", res.err)
			}
			if res.stolen > 1 {
				t.Errorf("the handler read %d frames of the bridged caller audio", res.stolen)
			}
			if res.digits != 0 {
				t.Errorf("%d digits reached the handler during the bridge", res.digits)
			}
			for range 2 { // the caller's leg and the consultant's, on the bot
				if end := r.bot.waitEnd(t); end.cause != telephony.CauseTransferred {
					t.Errorf("bot leg %s ended %s, want transferred", end.info.Direction, end.cause)
				}
			}
			wantCons, wantPhone := telephony.CauseCallerHangup, telephony.CauseBotHangup
			if hangsUp == "consultant" {
				wantCons, wantPhone = telephony.CauseBotHangup, telephony.CauseCallerHangup
			}
			if end := r.cons.waitEnd(t); end.cause != wantCons {
				t.Errorf("consultant ended %s, want %s", end.cause, wantCons)
			}
			if end := r.phone.waitEnd(t); end.cause != wantPhone {
				t.Errorf("phone ended %s, want %s", end.cause, wantPhone)
			}
		})
	}
}

// TestBridgeTransferFails: the consultant does not answer in time, or
// refuses: Transfer reports ErrTransferFailed with the reason, the
// ringback stops and the bot's audio reaches the caller again.
func TestBridgeTransferFails(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bot      Config
		cons     Config
		drain    bool // the consultant refuses calls (503) at once: too fast for ringback
		want     error
		consEnds telephony.Cause
	}{
		{"no answer", Config{RingTimeout: time.Second}, Config{RingTime: 10 * time.Second}, false, ErrNoAnswer, telephony.CauseCanceled},
		{"rejected", Config{}, Config{}, true, ErrRejected, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			r := startBridgeRig(t, tc.bot, tc.cons, telephony.TransferRequest{})
			if tc.drain {
				r.cons.Drain()
			}
			leg, err := r.phone.Dial(ctx, r.bot.uri("bot"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.drain {
				waitTone(ctx, t, leg, ringbackFreq, 5)
			}
			waitTone(ctx, t, leg, botFreq, 25) // the call is back with the bot
			if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
				t.Fatal(err)
			}
			res := r.result(t)
			if !errors.Is(res.err, telephony.ErrTransferFailed) || !errors.Is(res.err, tc.want) {
				t.Errorf("Transfer = %v, want ErrTransferFailed and %v", res.err, tc.want)
			}
			for range 2 { // the consultant attempt (outbound) and the caller's leg
				end := r.bot.waitEnd(t)
				if end.info.Direction == telephony.Inbound && end.cause != telephony.CauseCallerHangup {
					t.Errorf("bot leg ended %s, want caller_hung_up", end.cause)
				}
			}
			if tc.consEnds != "" {
				if end := r.cons.waitEnd(t); end.cause != tc.consEnds {
					t.Errorf("consultant call ended %s, want %s", end.cause, tc.consEnds)
				}
			}
		})
	}
}

// TestBridgeCallerHangsUpWhileRinging: the consultant's INVITE is
// cancelled and Transfer reports the closed leg.
func TestBridgeCallerHangsUpWhileRinging(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r := startBridgeRig(t, Config{}, Config{RingTime: 10 * time.Second}, telephony.TransferRequest{})
	leg, err := r.phone.Dial(ctx, r.bot.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, leg, ringbackFreq, 5)
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if res := r.result(t); !errors.Is(res.err, telephony.ErrLegClosed) || errors.Is(res.err, telephony.ErrTransferFailed) {
		t.Errorf("Transfer = %v, want ErrLegClosed", res.err)
	}
	for range 2 { // the cancelled consultant attempt and the caller's leg
		if end := r.bot.waitEnd(t); end.info.Direction == telephony.Inbound && end.cause != telephony.CauseCallerHangup {
			t.Errorf("bot leg ended %s", end.cause)
		}
	}
	if end := r.cons.waitEnd(t); end.cause != telephony.CauseCanceled {
		t.Errorf("consultant call ended %s, want canceled", end.cause)
	}
}

// TestTransferNeedsTarget: no target anywhere is a failed transfer, and
// the leg stays up.
func TestTransferNeedsTarget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	results := make(chan error, 1)
	gw := startGateway(t, Config{}, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
		results <- leg.Transfer(ctx, telephony.TransferRequest{})
		<-leg.Done()
		return nil
	}))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = <-results
	if !errors.Is(err, telephony.ErrTransferFailed) || !errors.Is(err, ErrNoTransferTarget) {
		t.Errorf("Transfer = %v", err)
	}
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup || !strings.Contains(end.info.Codec, "PCM") {
		t.Errorf("end %+v", end)
	}
}

// TestBridgeRecordsOneStereoFile: a bridged call yields one recording,
// the caller's: the caller's voice left, and right what the caller heard,
// the consultant once bridged. The consultant's leg has no file.
func TestBridgeRecordsOneStereoFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	dir := t.TempDir()
	r := startBridgeRig(t, Config{Recording: RecordingConfig{Dir: dir}}, Config{}, telephony.TransferRequest{})
	leg, err := r.phone.Dial(ctx, r.bot.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cons := r.consultant(t)
	waitCons := play(ctx, cons, toneSource(consultantFreq, 20*time.Second))
	waitTone(ctx, t, leg, consultantFreq, 25)
	waitPhone := play(ctx, leg, toneSource(callerFreq, 20*time.Second))
	waitTone(ctx, t, cons, callerFreq, 25)
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	waitPhone()
	waitCons()
	if res := r.result(t); res.err != nil {
		t.Fatalf("Transfer = %v", res.err)
	}
	var callerRec string
	for range 2 { // the recording is closed before the end is reported
		end := r.bot.waitEnd(t)
		switch end.info.Direction {
		case telephony.Inbound:
			callerRec = end.info.Recording
		case telephony.Outbound:
			if end.info.Recording != "" {
				t.Errorf("the consultant leg has its own recording %s", end.info.Recording)
			}
		}
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0] != callerRec {
		t.Fatalf("recordings %v, want only the caller's %q", files, callerRec)
	}
	f, err := os.Open(callerRec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, right, _, err := audio.ReadWAVStereo(f)
	if err != nil {
		t.Fatal(err)
	}
	count := func(pcm []int16, freq float64) (n int) {
		for k := 0; (k+1)*audio.FrameSamples <= len(pcm); k++ {
			var fr audio.Frame
			copy(fr[:], pcm[k*audio.FrameSamples:])
			if audio.RMS(fr[:]) > 1000 && telephonytest.ToneShare(fr[:], freq) > 0.8 {
				n++
			}
		}
		return n
	}
	if n := count(left, callerFreq); n < 20 {
		t.Errorf("left channel: %d frames of the caller's tone, want the caller", n)
	}
	if n := count(right, consultantFreq); n < 20 {
		t.Errorf("right channel: %d frames of the consultant's tone, want the consultant", n)
	}
	if n := count(left, consultantFreq) + count(right, callerFreq); n > 2 {
		t.Errorf("%d frames in the wrong channel", n)
	}
}
