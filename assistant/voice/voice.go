// Package voice connects a telephone call (a telephony.Leg, SIP or
// WebRTC) to the assistant's engine: it plays each reply through the
// speech renderer, lets the caller barge in where the flow allows it,
// collects keypad digits (and, with speech recognition, transcripts) as
// the flow's current question expects, and carries out the flow's actions
// (transfer, hangup).
package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hotline/assistant"
	"hotline/dialogs"
	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
	"hotline/telephony/speech/stt"
)

// Stream is rendered speech.
type Stream interface {
	telephony.FrameSource
	Close() error
}

// Speaker renders utterances (telephony/speech.Renderer).
type Speaker interface {
	Render(ctx context.Context, u say.Utterance) (Stream, error)
}

// Engine runs the conversation (assistant.Engine).
type Engine interface {
	Start(ctx context.Context, c assistant.Call) (assistant.Turn, error)
	Handle(ctx context.Context, callID string, in dialogs.Input) (assistant.Turn, error)
	Finish(ctx context.Context, callID, cause string) error
}

var _ Engine = (*assistant.Engine)(nil)

// Ears hears the caller (stt.Listener): fed the caller's audio, it
// reports the start of speech (for barge-in) and transcripts.
type Ears interface {
	Feed(pcm []int16)
	Events() <-chan stt.Event
	Close() error
}

var _ Ears = (*stt.Listener)(nil)

// Options configure a Handler.
type Options struct {
	Engine  Engine
	Speaker Speaker
	// NewEars returns speech recognition for one call; nil: keypad only.
	NewEars func(ctx context.Context) (Ears, error)
	// InterDigitTimeout ends a digit entry when the caller pauses (3 s).
	InterDigitTimeout time.Duration
	// TransferTarget is passed to Leg.Transfer ("" = the gateway's default).
	TransferTarget string
	// Queue, when set, replaces Leg.Transfer: the caller waits in the
	// consultants' queue with hold audio and is bridged to the consultant
	// who answers (queue.go).
	Queue  ConsultantQueue
	Logger *slog.Logger
}

// Handler serves calls; it implements telephony.Handler.
type Handler struct {
	opt Options
	log *slog.Logger
	// calls counts conversations in flight, up to their Engine.Finish:
	// a drain waits for them (Wait) before the stores close.
	calls sync.WaitGroup
}

var _ telephony.Handler = (*Handler)(nil)

// New returns a Handler.
func New(opt Options) (*Handler, error) {
	if opt.Engine == nil || opt.Speaker == nil {
		return nil, errors.New("voice: Engine and Speaker are required")
	}
	if opt.InterDigitTimeout <= 0 {
		opt.InterDigitTimeout = 3 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opt: opt, log: opt.Logger}, nil
}

// Wait returns once no conversation is in flight (each has recorded its
// end with Engine.Finish), or ctx's error. The telephony side counts a
// call over when its dialog ends, which can be before the handler has
// written the end of the session: a drain must wait for both.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeCall runs one call's conversation until it ends.
func (h *Handler) ServeCall(ctx context.Context, leg telephony.Leg) error {
	return h.serve(ctx, leg, nil)
}

// serve runs one call's conversation; start opens it (nil: Engine.Start,
// the inbound opening).
func (h *Handler) serve(ctx context.Context, leg telephony.Leg, start func(context.Context) (assistant.Turn, error)) error {
	h.calls.Add(1)
	defer h.calls.Done()
	info := leg.Info()
	c := &call{
		h:     h,
		leg:   leg,
		id:    info.ID,
		log:   h.log.With("call_id", info.ID, "leg", info.Type),
		keys:  make(chan rune, 64),
		start: start,
	}
	// The call owns its goroutines: at the end they are cancelled, then
	// waited for (defers run in reverse).
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(errors.New("voice: call over"))
	wg.Go(func() { c.pumpEvents(ctx) })
	if h.opt.NewEars != nil {
		ears, err := h.opt.NewEars(ctx)
		if err != nil {
			c.log.Error("speech recognition unavailable for this call; keypad only", "err", err)
		} else {
			c.ears = ears
			c.speech = make(chan struct{}, 1)
			c.transcripts = make(chan string, 4)
			defer c.ears.Close()
			wg.Go(func() { c.pumpAudio(ctx) })
			wg.Go(func() { c.pumpEars(ctx) })
		}
	}
	err := c.run(ctx)
	cause := leg.Cause()
	if cause == telephony.CauseNone {
		cause = telephony.CauseBotHangup
		if err != nil {
			cause = telephony.CauseFailed
		}
		_ = leg.Hangup(context.WithoutCancel(ctx), cause)
	}
	if ferr := h.opt.Engine.Finish(context.WithoutCancel(ctx), c.id, string(leg.Cause())); ferr != nil {
		c.log.Warn("recording the end of the call failed", "err", ferr)
	}
	c.log.Info("call ended", "cause", string(leg.Cause()), "err", err)
	return err
}

// call is one call's conversation loop.
type call struct {
	h    *Handler
	leg  telephony.Leg
	id   string
	log  *slog.Logger
	ears Ears
	// keys carries digits from the leg's events; typed-ahead keys wait
	// here until a question takes them.
	keys chan rune
	// ahead holds keys typed beyond the last question's answer.
	ahead []rune
	// speech signals the start of caller speech (barge-in); transcripts
	// carries what the caller said. Both nil without ears.
	speech      chan struct{}
	transcripts chan string
	// relay, while a bridge owns the caller's audio, receives it instead
	// of the ears (queue.go).
	relay atomic.Pointer[chan audio.Frame]
	// start opens the conversation (nil: Engine.Start).
	start func(context.Context) (assistant.Turn, error)
}

// errHungUp: the leg ended while we were playing or listening.
var errHungUp = errors.New("voice: leg ended")

func (c *call) run(ctx context.Context) error {
	info := c.leg.Info()
	var turn assistant.Turn
	var err error
	if c.start != nil {
		turn, err = c.start(ctx)
	} else {
		turn, err = c.h.opt.Engine.Start(ctx, assistant.Call{ID: c.id, Direction: string(info.Direction), Leg: info.Type})
	}
	if err != nil {
		return fmt.Errorf("voice: start: %w", err)
	}
	for {
		var pending []rune
		pending, err = c.speak(ctx, turn.Reply.Say)
		if errors.Is(err, errHungUp) {
			return nil
		}
		if err != nil {
			return err
		}
		switch turn.Reply.Action.Kind {
		case dialogs.ActionHangup:
			return c.leg.Hangup(ctx, telephony.CauseBotHangup)
		case dialogs.ActionTransfer:
			next, done, err := c.transfer(ctx, turn)
			if done || err != nil {
				return err
			}
			turn = next
			continue
		}
		if turn.Ended {
			return c.leg.Hangup(ctx, telephony.CauseBotHangup)
		}
		in, err := c.listen(ctx, turn.Reply.Expect, pending)
		if errors.Is(err, errHungUp) {
			return nil
		}
		if err != nil {
			return err
		}
		turn, err = c.h.opt.Engine.Handle(ctx, c.id, in)
		if err != nil {
			return fmt.Errorf("voice: turn: %w", err)
		}
	}
}

// transfer hands the call to a consultant. When no consultant takes it,
// the flow hears so and the conversation goes on with its next turn.
func (c *call) transfer(ctx context.Context, turn assistant.Turn) (assistant.Turn, bool, error) {
	if c.h.opt.Queue != nil && turn.Transfer != nil {
		return c.queueTransfer(ctx, turn)
	}
	req := telephony.TransferRequest{Target: c.h.opt.TransferTarget, Headers: transferHeaders(turn.Transfer)}
	err := c.leg.Transfer(ctx, req)
	if err == nil {
		return assistant.Turn{}, true, nil
	}
	if c.leg.Cause() != telephony.CauseNone {
		return assistant.Turn{}, true, nil // the caller hung up meanwhile
	}
	c.log.Warn("transfer failed; back to the assistant", "err", err)
	c.notify(telephony.Note{Kind: telephony.NoteTransfer, Data: map[string]string{"state": "failed"}})
	next, herr := c.h.opt.Engine.Handle(ctx, c.id, dialogs.Input{Kind: dialogs.InputTransferFailed})
	if herr != nil {
		return assistant.Turn{}, true, fmt.Errorf("voice: after a failed transfer: %w", herr)
	}
	return next, false, nil
}

// transferHeaders carries the call's context to a consultant's phone.
// Only a verified case number travels; the transcript stays in Redis,
// where the consultant console reads it by call id.
func transferHeaders(tc *assistant.TransferContext) map[string]string {
	if tc == nil {
		return nil
	}
	h := map[string]string{
		"X-Hotline-Call-ID":  tc.CallID,
		"X-Hotline-Reason":   tc.Reason,
		"X-Hotline-Verified": fmt.Sprint(tc.Verified),
	}
	if tc.Verified && tc.CaseNumber != "" {
		h["X-Hotline-Case"] = tc.CaseNumber
	}
	var kinds []string
	seen := map[dialogs.DisclosureKind]bool{}
	for _, d := range tc.Disclosures {
		if !seen[d.Kind] {
			seen[d.Kind] = true
			kinds = append(kinds, string(d.Kind))
		}
	}
	if len(kinds) > 0 {
		h["X-Hotline-Disclosed"] = strings.Join(kinds, ",")
	}
	return h
}

// pumpEvents forwards the leg's digits to c.keys until the leg ends.
func (c *call) pumpEvents(ctx context.Context) {
	for {
		select {
		case ev, ok := <-c.leg.Events():
			if !ok {
				return
			}
			if ev.Kind == telephony.EventDTMF {
				select {
				case c.keys <- ev.Digit:
				default:
					c.log.Warn("keypad buffer full; digit dropped")
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// pumpAudio feeds the caller's audio to the ears.
func (c *call) pumpAudio(ctx context.Context) {
	var f audio.Frame
	for {
		if err := c.leg.ReadAudio(ctx, &f); err != nil {
			return
		}
		c.feed(&f)
	}
}

// pumpEars turns the ears' events into barge-in signals and transcripts.
func (c *call) pumpEars(ctx context.Context) {
	for {
		select {
		case ev, ok := <-c.ears.Events():
			if !ok {
				return
			}
			switch ev.Kind {
			case stt.EventSpeechStart:
				select {
				case c.speech <- struct{}{}:
				default:
				}
			case stt.EventTranscript:
				if ev.Text == "" {
					continue
				}
				select {
				case c.transcripts <- ev.Text:
				default:
					c.log.Warn("transcript dropped: the conversation is behind")
				}
			case stt.EventError:
				c.log.Warn("speech recognition failed", "err", ev.Err)
			}
		case <-ctx.Done():
			return
		}
	}
}
