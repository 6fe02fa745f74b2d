package voice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"hotline/assistant"
	"hotline/dialogs"
	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

// ConsultantQueue is the consultants' waiting queue
// (assistant/consultants.Service).
type ConsultantQueue interface {
	// Wait queues the caller and blocks until a consultant's leg is
	// connected, the queue times out, or ctx ends. position is told the
	// caller's place in line whenever it changes (it must not block).
	// back is closed when the consultant sends the caller back.
	Wait(ctx context.Context, tc *assistant.TransferContext, position func(n int)) (leg telephony.Leg, back <-chan struct{}, err error)
	// Finish records the end of the call's transfer (outcome:
	// "transferred", "back", "caller_hung_up", …).
	Finish(ctx context.Context, callID, outcome string)
}

// Hold pacing: the caller hears hold tones between announcements of
// their place in line, re-announced at least every holdAnnounceEvery.
const (
	holdChunk         = 3 * time.Second
	holdAnnounceEvery = 30 * time.Second
)

// queueTransfer waits in the consultants' queue with hold audio, then
// bridges the caller with the consultant who answered. It returns the
// next turn when the caller is back with the assistant (nobody answered
// in time, or the consultant sent them back), or done when the call is
// over.
func (c *call) queueTransfer(ctx context.Context, turn assistant.Turn) (assistant.Turn, bool, error) {
	q := c.h.opt.Queue
	c.notify(telephony.Note{Kind: telephony.NoteTransfer, Data: map[string]string{"state": "queued"}})
	positions := make(chan int, 8)
	hctx, stopHold := context.WithCancel(ctx)
	holdDone := make(chan struct{})
	go func() { defer close(holdDone); c.hold(hctx, positions) }()
	// A caller who hangs up leaves the queue at once.
	wctx, stopWait := context.WithCancel(ctx)
	go func() {
		select {
		case <-c.leg.Done():
			stopWait()
		case <-wctx.Done():
		}
	}()
	leg, back, err := q.Wait(wctx, turn.Transfer, func(n int) {
		select {
		case positions <- n:
		default:
		}
	})
	stopWait()
	stopHold()
	<-holdDone
	c.drainKeys()
	if err != nil {
		if c.leg.Cause() != telephony.CauseNone {
			q.Finish(context.WithoutCancel(ctx), c.id, string(c.leg.Cause()))
			return assistant.Turn{}, true, nil // the caller hung up while waiting
		}
		c.log.Info("no consultant took the call; back to the assistant", "err", err)
		return c.backToAssistant(ctx, "timeout")
	}
	c.log.Info("consultant answered; bridging")
	c.notify(telephony.Note{Kind: telephony.NoteTransfer, Data: map[string]string{"state": "connected"}})
	outcome, err := c.bridge(ctx, leg, back)
	if outcome == "back" {
		return c.backToAssistant(ctx, outcome)
	}
	q.Finish(context.WithoutCancel(ctx), c.id, outcome)
	return assistant.Turn{}, true, err
}

// backToAssistant ends the queue record and lets the flow offer a
// callback (dialogs.InputTransferFailed reopens the conversation).
func (c *call) backToAssistant(ctx context.Context, outcome string) (assistant.Turn, bool, error) {
	c.h.opt.Queue.Finish(context.WithoutCancel(ctx), c.id, outcome)
	c.notify(telephony.Note{Kind: telephony.NoteTransfer, Data: map[string]string{"state": "failed"}})
	next, err := c.h.opt.Engine.Handle(ctx, c.id, dialogs.Input{Kind: dialogs.InputTransferFailed})
	if err != nil {
		return assistant.Turn{}, true, fmt.Errorf("voice: after the queue: %w", err)
	}
	return next, false, nil
}

// bridge connects the caller with the consultant's leg until either hangs
// up (both end: "transferred") or the consultant sends the caller back
// ("back": the consultant's leg is hung up, the caller stays).
func (c *call) bridge(ctx context.Context, consultant telephony.Leg, back <-chan struct{}) (string, error) {
	caller := c.leg
	if c.ears != nil {
		// pumpAudio is the caller's only audio reader; during the bridge
		// it hands frames to the bridge instead of the ears.
		frames := make(chan audio.Frame, 16)
		c.relay.Store(&frames)
		defer c.relay.Store(nil)
		caller = relayLeg{Leg: c.leg, frames: frames}
	}
	bctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	errBack := errors.New("voice: consultant sent the caller back")
	go func() {
		select {
		case <-back:
			stop(errBack)
		case <-bctx.Done():
		}
	}()
	err := telephony.Bridge(bctx, caller, consultant)
	switch {
	case errors.Is(err, errBack) && c.leg.Cause() == telephony.CauseNone:
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = consultant.Hangup(hctx, telephony.CauseTransferred)
		return "back", nil
	case err != nil && ctx.Err() == nil:
		return string(telephony.CauseFailed), fmt.Errorf("voice: bridge: %w", err)
	}
	if c.leg.Cause() == telephony.CauseNone {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.leg.Hangup(hctx, telephony.CauseTransferred)
		_ = consultant.Hangup(hctx, telephony.CauseTransferred)
	}
	return string(telephony.CauseTransferred), nil
}

// feed gives a caller's frame to the bridge when one owns the audio,
// otherwise to the ears.
func (c *call) feed(f *audio.Frame) {
	if p := c.relay.Load(); p != nil {
		select {
		case *p <- *f:
		default: // the bridge is behind: drop rather than block the reader
		}
		return
	}
	c.ears.Feed(f[:])
}

// relayLeg is the caller's leg as the bridge sees it when pumpAudio owns
// the leg's audio.
type relayLeg struct {
	telephony.Leg
	frames <-chan audio.Frame
}

// ReadAudio implements telephony.Leg.
func (l relayLeg) ReadAudio(ctx context.Context, f *audio.Frame) error {
	select {
	case *f = <-l.frames:
		return nil
	case <-l.Done():
		return telephony.ErrLegClosed
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// hold plays the queue announcement, then hold tones, announcing the
// caller's place in line whenever it changes (and every 30 s).
func (c *call) hold(ctx context.Context, positions <-chan int) {
	c.holdSay(ctx, say.New(say.Prompt(dialogs.PromptQueueWait)))
	var pos, said int
	var saidAt time.Time
	for ctx.Err() == nil {
		for more := true; more; {
			select {
			case n := <-positions:
				pos = n
			default:
				more = false
			}
		}
		if pos > 0 && (pos != said || time.Since(saidAt) >= holdAnnounceEvery) {
			c.holdSay(ctx, say.New(say.Prompt(dialogs.PromptQueuePosition), say.Number(int64(pos))))
			said, saidAt = pos, time.Now()
			continue
		}
		if err := c.leg.Play(ctx, newHoldTone(holdChunk)); err != nil {
			return
		}
	}
}

// holdSay plays one utterance to the waiting caller (no barge-in).
func (c *call) holdSay(ctx context.Context, u say.Utterance) {
	st, err := c.h.opt.Speaker.Render(ctx, u)
	if err != nil {
		c.log.Warn("hold announcement not rendered", "err", err)
		return
	}
	defer st.Close()
	_ = c.leg.Play(ctx, st)
}

// drainKeys drops digits pressed while on hold.
func (c *call) drainKeys() {
	for {
		select {
		case <-c.keys:
		default:
			return
		}
	}
}

// notify shows a note on the caller's screen, if the leg has one.
func (c *call) notify(n telephony.Note) {
	if nf, ok := c.leg.(telephony.Notifier); ok {
		nf.Notify(n)
	}
}

// holdTone is a soft hold signal: a 425 Hz beep of 300 ms, then silence,
// for its length.
type holdTone struct{ n, frames int }

func newHoldTone(d time.Duration) *holdTone {
	return &holdTone{frames: int(d / audio.FrameDuration)}
}

// ReadFrame implements telephony.FrameSource.
func (h *holdTone) ReadFrame(f *audio.Frame) error {
	if h.n >= h.frames {
		return io.EOF
	}
	const beepFrames = 15
	for i := range f {
		f[i] = 0
		if h.n < beepFrames {
			t := float64(h.n*len(f)+i) / audio.Rate
			f[i] = int16(1500 * math.Sin(2*math.Pi*425*t))
		}
	}
	h.n++
	return nil
}
