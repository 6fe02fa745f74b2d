// Package playout is the send side the gateways (telephony/sipgw,
// telephony/webrtcgw) share between a leg's Play and its RTP sender: a
// short queue of frames that Play fills and the sender drains one per
// tick (Queue), the 20 ms tick grid the sender runs on (Pacer), and the
// timing of the bot's reply to a key press (Queue.KeyPressed, Replied).
// It knows nothing of RTP packets or sockets: each gateway writes its
// own.
package playout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
)

// Frames is how far Play may run ahead of the wire (60 ms): enough to
// ride out a source that is briefly slow, short enough that barge-in
// stops the prompt at once.
const Frames = 3

// item is one frame queued by Play, or (flush != nil) a marker that the
// sender closes once every frame queued before it has been sent.
type item struct {
	gen   uint64
	frame audio.Frame
	flush chan struct{}
}

// keyMark is when a key press was delivered, and the Play generation
// then current: the reply is the first frame of a later Play.
type keyMark struct {
	at  time.Time
	gen uint64
}

// Queue hands frames from Play (one at a time: a second Play waits for
// the first) to the sender. Each Play has a generation: frames of a Play
// that was cancelled or failed are dropped by the sender, so barge-in
// cuts a prompt within the queue's Frames. Use New.
type Queue struct {
	q   chan item
	gen atomic.Uint64
	sem chan struct{}
	key atomic.Pointer[keyMark]
}

// New returns an empty queue.
func New() *Queue {
	return &Queue{q: make(chan item, Frames), sem: make(chan struct{}, 1)}
}

// ErrSource wraps the error of a FrameSource that failed during Play.
var ErrSource = errors.New("playout: frame source failed")

// Play pulls frames from src and queues them for the sender, which paces
// them; it returns when the last frame has been sent. It returns ctx's
// error (unwrapped), telephony.ErrLegClosed once ended is closed (nil:
// never), or src's error wrapped with ErrSource.
func (q *Queue) Play(ctx context.Context, ended <-chan struct{}, src telephony.FrameSource) error {
	select {
	case q.sem <- struct{}{}:
		defer func() { <-q.sem }()
	case <-ctx.Done():
		return ctx.Err()
	case <-ended:
		return telephony.ErrLegClosed
	}
	gen := q.gen.Add(1)
	abort := func(err error) error {
		q.gen.Add(1) // the sender drops what is still queued
		return err
	}
	it := item{gen: gen}
	for {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		err := src.ReadFrame(&it.frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return abort(fmt.Errorf("%w: %w", ErrSource, err))
		}
		if err := q.enqueue(ctx, ended, it); err != nil {
			return abort(err)
		}
	}
	// Return when the last frame has gone out, not when it was queued, so
	// a hangup right after Play does not clip the end of the prompt.
	flush := make(chan struct{})
	if err := q.enqueue(ctx, ended, item{gen: gen, flush: flush}); err != nil {
		return abort(err)
	}
	select {
	case <-flush:
		return nil
	case <-ctx.Done():
		return abort(ctx.Err())
	case <-ended:
		return telephony.ErrLegClosed
	}
}

func (q *Queue) enqueue(ctx context.Context, ended <-chan struct{}, it item) error {
	select {
	case q.q <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-ended:
		return telephony.ErrLegClosed
	}
}

// Next takes the next frame of the current Play into f without waiting,
// completing flush markers and dropping frames of aborted Plays. It
// returns the frame's Play generation (for Replied) and whether there
// was one; f is untouched when there was none.
func (q *Queue) Next(f *audio.Frame) (gen uint64, ok bool) {
	for {
		select {
		case it := <-q.q:
			if q.usable(&it) {
				*f = it.frame
				return it.gen, true
			}
		default:
			return 0, false
		}
	}
}

// Wait is Next for an idle sender (silence suppression): it blocks until
// a frame of the current Play is queued, or returns false once stop is
// closed.
func (q *Queue) Wait(stop <-chan struct{}, f *audio.Frame) (gen uint64, ok bool) {
	for {
		select {
		case it := <-q.q:
			if q.usable(&it) {
				*f = it.frame
				return it.gen, true
			}
		case <-stop:
			return 0, false
		}
	}
}

// usable reports whether it is a frame to send now; flush markers are
// completed and stale frames dropped (false).
func (q *Queue) usable(it *item) bool {
	if it.flush != nil {
		close(it.flush)
		return false
	}
	return it.gen == q.gen.Load()
}

// KeyPressed notes a key press handed to the handler at at, so that
// Replied can time the reply. Only the latest press counts: a reply
// answers the whole key sequence (a case number ends with its last key).
func (q *Queue) KeyPressed(at time.Time) {
	q.key.Store(&keyMark{at: at, gen: q.gen.Load()})
}

// Replied is called by the sender with each Play frame it sends (gen from
// Next or Wait) at now. For the first frame of a Play started after the
// pending key press it returns the time since the press, once.
func (q *Queue) Replied(gen uint64, now time.Time) (time.Duration, bool) {
	if k := q.key.Load(); k != nil && gen > k.gen && q.key.CompareAndSwap(k, nil) {
		return now.Sub(k.at), true
	}
	return 0, false
}
