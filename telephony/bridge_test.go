package telephony_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingLeg is a fake leg that counts the frames played to it and
// remembers the last one, so a test can wait for relayed audio.
type countingLeg struct {
	*telephonytest.Leg
	frames atomic.Int64
	last   atomic.Int64 // first sample of the last frame played
}

func newCountingLeg(id string) *countingLeg {
	return &countingLeg{Leg: telephonytest.NewLeg(telephony.LegInfo{ID: id})}
}

func (l *countingLeg) Play(ctx context.Context, src telephony.FrameSource) error {
	return l.Leg.Play(ctx, countingSource{src: src, l: l})
}

type countingSource struct {
	src telephony.FrameSource
	l   *countingLeg
}

func (s countingSource) ReadFrame(f *audio.Frame) error {
	if err := s.src.ReadFrame(f); err != nil {
		return err
	}
	s.l.last.Store(int64(f[0]))
	s.l.frames.Add(1)
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func frameOf(v int16) audio.Frame {
	var f audio.Frame
	for i := range f {
		f[i] = v
	}
	return f
}

func TestBridgeRelaysAndEndsBoth(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hangupA     bool // else b hangs up
		wantA, want telephony.Cause
	}{
		{"caller hangs up", true, telephony.CauseCallerHangup, telephony.CauseTransferred},
		{"consultant hangs up", false, telephony.CauseTransferred, telephony.CauseCallerHangup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newCountingLeg("a"), newCountingLeg("b")
			errc := make(chan error, 1)
			go func() { errc <- telephony.Bridge(context.Background(), a, b) }()

			for range 5 {
				a.SendAudio(frameOf(1000))
			}
			for range 3 {
				b.SendAudio(frameOf(-2000))
			}
			waitFor(t, "a's audio at b", func() bool { return b.frames.Load() == 5 })
			waitFor(t, "b's audio at a", func() bool { return a.frames.Load() == 3 })
			if got := b.last.Load(); got != 1000 {
				t.Errorf("b heard %d, want a's 1000", got)
			}
			if got := a.last.Load(); got != -2000 {
				t.Errorf("a heard %d, want b's -2000", got)
			}

			if tc.hangupA {
				a.CallerHangup()
			} else {
				b.CallerHangup()
			}
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("Bridge: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Bridge did not return after a hangup")
			}
			if a.Cause() != tc.wantA || b.Cause() != tc.want {
				t.Errorf("causes a=%q b=%q, want %q %q", a.Cause(), b.Cause(), tc.wantA, tc.want)
			}
			select {
			case <-a.Done():
			default:
				t.Error("a not done")
			}
			select {
			case <-b.Done():
			default:
				t.Error("b not done")
			}
		})
	}
}

func TestBridgeCancelLeavesLegsUp(t *testing.T) {
	a, b := newCountingLeg("a"), newCountingLeg("b")
	ctx, cancel := context.WithCancelCause(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- telephony.Bridge(ctx, a, b) }()
	a.SendAudio(frameOf(7))
	waitFor(t, "relay running", func() bool { return b.frames.Load() == 1 })
	back := errors.New("back to the assistant")
	cancel(back)
	select {
	case err := <-errc:
		if !errors.Is(err, back) {
			t.Fatalf("Bridge = %v, want the cancel cause", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Bridge did not return after cancel")
	}
	if a.Cause() != telephony.CauseNone || b.Cause() != telephony.CauseNone {
		t.Errorf("legs ended: a=%q b=%q", a.Cause(), b.Cause())
	}
	a.CallerHangup()
	b.CallerHangup()
}

// failingLeg's Play fails at once, as a broken leg would.
type failingLeg struct{ *telephonytest.Leg }

var errBroken = errors.New("broken")

func (failingLeg) Play(context.Context, telephony.FrameSource) error { return errBroken }

func TestBridgeFailureEndsBoth(t *testing.T) {
	a := failingLeg{telephonytest.NewLeg(telephony.LegInfo{ID: "a"})}
	b := newCountingLeg("b")
	err := telephony.Bridge(context.Background(), a, b)
	if !errors.Is(err, errBroken) {
		t.Fatalf("Bridge = %v, want %v", err, errBroken)
	}
	if a.Cause() != telephony.CauseFailed || b.Cause() != telephony.CauseFailed {
		t.Errorf("causes a=%q b=%q, want failed", a.Cause(), b.Cause())
	}
}
