// Package telephonytest provides a fake telephony.Leg for handler tests:
// the test presses keys and hangs up through it, and reads back what the
// handler played (frame counts per Play, in order) and how it ended.
package telephonytest

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
)

// Leg is an in-memory telephony.Leg. Play consumes its source as fast as
// it can (no pacing) unless PlayDelay is set.
type Leg struct {
	info   telephony.LegInfo
	events chan telephony.Event
	done   chan struct{}

	// PlayDelay, if set, is slept per played frame (to let a test press a
	// key while a prompt plays).
	PlayDelay time.Duration
	// TransferErr is what Transfer returns.
	TransferErr error

	mu        sync.Mutex
	cause     telephony.Cause
	plays     []int // frames played per Play call
	played    chan int
	transfers []telephony.TransferRequest
	audioIn   chan audio.Frame
}

var _ telephony.Leg = (*Leg)(nil)

// NewLeg returns a live fake leg.
func NewLeg(info telephony.LegInfo) *Leg {
	if info.ID == "" {
		info.ID = "test-leg"
	}
	if info.Type == "" {
		info.Type = "test"
	}
	return &Leg{
		info:    info,
		events:  make(chan telephony.Event, 64),
		done:    make(chan struct{}),
		played:  make(chan int, 1024),
		audioIn: make(chan audio.Frame, 64),
	}
}

// Info implements telephony.Leg.
func (l *Leg) Info() telephony.LegInfo { return l.info }

// Done implements telephony.Leg.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Cause implements telephony.Leg.
func (l *Leg) Cause() telephony.Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

// Events implements telephony.Leg.
func (l *Leg) Events() <-chan telephony.Event { return l.events }

// ReadAudio implements telephony.Leg: frames sent with SendAudio, else it
// blocks until ctx ends or the leg ends.
func (l *Leg) ReadAudio(ctx context.Context, f *audio.Frame) error {
	select {
	case fr := <-l.audioIn:
		*f = fr
		return nil
	case <-l.done:
		return telephony.ErrLegClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Play implements telephony.Leg.
func (l *Leg) Play(ctx context.Context, src telephony.FrameSource) error {
	var f audio.Frame
	n := 0
	defer func() {
		l.mu.Lock()
		l.plays = append(l.plays, n)
		l.mu.Unlock()
		l.played <- n
	}()
	for {
		select {
		case <-l.done:
			return telephony.ErrLegClosed
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		err := src.ReadFrame(&f)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		n++
		if l.PlayDelay > 0 {
			t := time.NewTimer(l.PlayDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-l.done:
				t.Stop()
				return telephony.ErrLegClosed
			}
		}
	}
}

// Transfer implements telephony.Leg: records the request; on success the
// leg ends with CauseTransferred.
func (l *Leg) Transfer(_ context.Context, req telephony.TransferRequest) error {
	l.mu.Lock()
	l.transfers = append(l.transfers, req)
	err := l.TransferErr
	l.mu.Unlock()
	if err != nil {
		return err
	}
	l.end(telephony.CauseTransferred)
	return nil
}

// Hangup implements telephony.Leg.
func (l *Leg) Hangup(_ context.Context, cause telephony.Cause) error {
	l.end(cause)
	return nil
}

// Press sends DTMF keys from the caller.
func (l *Leg) Press(keys string) {
	for _, k := range keys {
		l.events <- telephony.Event{Kind: telephony.EventDTMF, Digit: k, Source: "rfc4733", At: time.Now()}
	}
}

// SendAudio queues a frame of caller audio.
func (l *Leg) SendAudio(f audio.Frame) { l.audioIn <- f }

// CallerHangup ends the leg from the caller's side.
func (l *Leg) CallerHangup() { l.end(telephony.CauseCallerHangup) }

// Played returns a channel that receives the frame count of every
// finished Play, so tests can wait for prompts without sleeping.
func (l *Leg) Played() <-chan int { return l.played }

// Plays returns the frame counts of all finished Plays.
func (l *Leg) Plays() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.plays...)
}

// Transfers returns the transfer requests received.
func (l *Leg) Transfers() []telephony.TransferRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]telephony.TransferRequest(nil), l.transfers...)
}

func (l *Leg) end(cause telephony.Cause) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cause != telephony.CauseNone {
		return
	}
	l.cause = cause
	l.events <- telephony.Event{Kind: telephony.EventHangup, Cause: cause, At: time.Now()}
	close(l.events)
	close(l.done)
}
