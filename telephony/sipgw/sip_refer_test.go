package sipgw

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

const (
	referTarget  = "sip:consultant@127.0.0.1:5999"
	ringbackFreq = 425
	afterFreq    = 1000 // the handler's tone once a transfer failed
)

// heard is one frame of the caller's audio as the handler read it: sipp
// -rtp_echo returns what the gateway sent, so this is what the caller
// heard, about one jitter-buffer delay later.
type heard struct {
	at   time.Time
	freq int // ringbackFreq, afterFreq, or 0 (anything else)
}

// transferHandler transfers at once; after a failed transfer it plays a
// tone (the call is back with the handler) and waits for the hangup. It
// classifies the audio that came back throughout.
type transferHandler struct {
	req    telephony.TransferRequest
	result chan error
	failAt chan time.Time

	mu    sync.Mutex
	heard []heard
}

func newTransferHandler(req telephony.TransferRequest) *transferHandler {
	return &transferHandler{req: req, result: make(chan error, 1), failAt: make(chan time.Time, 1)}
}

func (h *transferHandler) ServeCall(ctx context.Context, leg telephony.Leg) error {
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		var f audio.Frame
		for leg.ReadAudio(ctx, &f) == nil {
			hf := heard{at: time.Now()}
			switch {
			case audio.RMS(f[:]) < 1000:
			case telephonytest.ToneShare(f[:], ringbackFreq) > 0.8:
				hf.freq = ringbackFreq
			case telephonytest.ToneShare(f[:], afterFreq) > 0.8:
				hf.freq = afterFreq
			}
			h.mu.Lock()
			h.heard = append(h.heard, hf)
			h.mu.Unlock()
		}
	}()
	err := leg.Transfer(ctx, h.req)
	h.result <- err
	if errors.Is(err, telephony.ErrTransferFailed) {
		h.failAt <- time.Now()
		_ = leg.Play(ctx, toneSource(afterFreq, time.Second))
		<-leg.Done()
	}
	<-readDone
	return nil
}

// count returns how many frames of freq came back in [from, to).
func (h *transferHandler) count(freq int, from, to time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, hf := range h.heard {
		if hf.freq == freq && !hf.at.Before(from) && hf.at.Before(to) {
			n++
		}
	}
	return n
}

func (h *transferHandler) transferResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.result:
		return err
	case <-time.After(testTimeout):
		t.Fatal("Transfer did not return")
		return nil
	}
}

// TestSippReferAccepted: sipp (the caller) accepts the REFER and reports
// 100 then 200 by NOTIFY; the caller hears ringback meanwhile; Transfer
// returns nil, the bot sends BYE (the scenario fails without it) and
// the call ends as transferred.
func TestSippReferAccepted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	h := newTransferHandler(telephony.TransferRequest{})
	gw := startGateway(t, Config{TransferTarget: referTarget}, h)
	sipp(ctx, t, gw, "uac_accepts_refer.xml", "-rtp_echo")

	if err := h.transferResult(t); err != nil {
		t.Fatalf("Transfer = %v, want nil", err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseTransferred {
		t.Errorf("cause %s, want transferred", end.cause)
	}
	// 1.5 s between the NOTIFYs: the first second is ringing tone.
	if n := h.count(ringbackFreq, time.Time{}, time.Now()); n < 25 {
		t.Errorf("%d frames of 425 Hz ringback came back, want ≥ 25", n)
	}
}

// TestSippReferFails: every way a REFER can fail leaves the call with
// the handler: ErrTransferFailed with the reason, ringback stopped, the
// handler's audio reaches the caller, and the caller's BYE ends the call
// as an ordinary hangup.
func TestSippReferFails(t *testing.T) {
	for _, tc := range []struct {
		name, scenario string
		args           []string
		cfg            Config
		reason         string
	}{
		{"declined", "uac_refer_declined.xml", nil, Config{}, "603 Decline"},
		{"busy", "uac_refer_busy.xml", nil, Config{}, "486 Busy Here"},
		{"no final NOTIFY", "uac_refer_no_result.xml", []string{"-key", "substate", "active;expires=60"},
			Config{ReferTimeout: time.Second}, "no final NOTIFY within 1s"},
		{"terminated without result", "uac_refer_no_result.xml", []string{"-key", "substate", "terminated;reason=timeout"},
			Config{}, "subscription terminated without a final status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			h := newTransferHandler(telephony.TransferRequest{Target: referTarget})
			gw := startGateway(t, tc.cfg, h)
			sipp(ctx, t, gw, tc.scenario, append(tc.args, "-rtp_echo")...)

			err := h.transferResult(t)
			if !errors.Is(err, telephony.ErrTransferFailed) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Transfer = %v, want ErrTransferFailed with %q", err, tc.reason)
			}
			if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup {
				t.Errorf("cause %s, want caller_hung_up: the call stayed with the handler", end.cause)
			}
			failAt := <-h.failAt
			// Echo and jitter buffer delay: a few frames of ringback may
			// still come back just after the failure, none later.
			settle := failAt.Add(300 * time.Millisecond)
			if n := h.count(ringbackFreq, settle, time.Now()); n > 0 {
				t.Errorf("%d frames of ringback after the transfer failed", n)
			}
			if n := h.count(afterFreq, failAt, time.Now()); n < 25 {
				t.Errorf("%d frames of the handler's tone came back after the failure, want ≥ 25", n)
			}
		})
	}
}
