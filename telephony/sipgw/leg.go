package sipgw

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
)

const (
	// eventBuffer is how many events a slow handler may leave unread
	// before digits are dropped; one slot is always kept for the hangup.
	// 24 covers a case number and a date of birth keyed ahead; an event
	// is ~100 bytes and every call holds the buffer.
	eventBuffer = 24
	// byeTimeout bounds waiting for the 200 to our BYE (64×T1 is the
	// transaction's own limit; a hangup should not take that long).
	byeTimeout = 5 * time.Second
)

// call is one SIP call leg: the signalling dialog (server side for
// inbound, client side for outbound), its media session and the events
// the handler reads. It owns its goroutines; all of them end in teardown,
// which runs once, in a fixed order, whoever ends the call.
type call struct {
	srv   *Server
	log   *slog.Logger
	info  telephony.LegInfo
	media *media
	key   string // dialog key in Server.calls; "" until registered

	uas      *sipgo.DialogServerSession // inbound
	inviteTx sip.ServerTransaction      // inbound
	uac      *sipgo.DialogClientSession // outbound

	// ctx is the handler's context: cancelled, with a
	// telephony.EndedError, as soon as the call starts ending.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// ending is closed when teardown starts, done when it has finished.
	ending  chan struct{}
	done    chan struct{}
	endOnce sync.Once

	mu       sync.Mutex
	cause    telephony.Cause
	answered bool       // a 200 OK was sent (inbound) or received (outbound)
	local    localMedia // our SDP origin, for re-INVITE answers
	lastSDP  []byte     // our last SDP body

	evMu    sync.Mutex
	events  chan telephony.Event
	merger  dtmf.Merger
	dropped int

	rec callRecording // recording.go

	xfer transferState // transfer.go
}

var _ telephony.Leg = (*call)(nil)

func newCall(srv *Server, info telephony.LegInfo, log *slog.Logger) *call {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &call{
		srv:    srv,
		info:   info,
		log:    log,
		ctx:    ctx,
		cancel: cancel,
		ending: make(chan struct{}),
		done:   make(chan struct{}),
		events: make(chan telephony.Event, eventBuffer),
	}
}

// Info implements telephony.Leg.
func (c *call) Info() telephony.LegInfo {
	info := c.info
	if c.media != nil {
		if r := c.media.remoteAddr(); r.IsValid() {
			info.Remote = r.String()
		}
		if p := c.media.params.Load(); p != nil {
			info.Codec = p.Codec.Name
		}
	}
	info.Recording = c.rec.filePath()
	return info
}

// Done implements telephony.Leg.
func (c *call) Done() <-chan struct{} { return c.done }

// Cause implements telephony.Leg: set as soon as the call starts ending.
func (c *call) Cause() telephony.Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Events implements telephony.Leg.
func (c *call) Events() <-chan telephony.Event { return c.events }

// ReadAudio implements telephony.Leg.
func (c *call) ReadAudio(ctx context.Context, f *audio.Frame) error {
	select {
	case <-c.ending:
		return telephony.ErrLegClosed
	default:
	}
	if err := c.bridgeGate(ctx); err != nil { // a bridge reads the audio now
		return err
	}
	return c.media.jb.Read(ctx, c.ending, f)
}

// Play implements telephony.Leg.
func (c *call) Play(ctx context.Context, src telephony.FrameSource) error {
	select {
	case <-c.ending:
		return telephony.ErrLegClosed
	default:
	}
	if err := c.bridgeGate(ctx); err != nil { // a bridge plays to the caller now
		return err
	}
	return c.media.play(ctx, c.ending, src)
}

// Transfer implements telephony.Leg (see transfer.go).
func (c *call) Transfer(ctx context.Context, req telephony.TransferRequest) error {
	return c.srv.transfer(ctx, c, req)
}

// Hangup implements telephony.Leg: it ends the call and waits for the
// teardown (BYE included) or ctx.
func (c *call) Hangup(ctx context.Context, cause telephony.Cause) error {
	if cause == telephony.CauseNone {
		cause = telephony.CauseBotHangup
	}
	c.end(cause)
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// end starts the teardown once; the first cause wins. It never blocks,
// so SIP handlers and media goroutines can call it.
func (c *call) end(cause telephony.Cause) {
	c.endOnce.Do(func() { go c.teardown(cause) })
}

// teardown ends the call in a fixed order: stop accepting input (digits,
// handler ctx, Play, ReadAudio) → end the dialog (BYE if answered and we
// end it, a final response if not answered) → stop media → close the
// socket → close the recording → record the cause → hangup event, close
// Events → Done.
func (c *call) teardown(cause telephony.Cause) {
	c.mu.Lock()
	c.cause = cause
	answered := c.answered
	close(c.ending) // under mu: the answering goroutine checks it there
	c.mu.Unlock()
	c.cancel(telephony.EndedError(cause))

	c.endDialog(cause, answered)
	if c.media != nil {
		c.media.close()
	}
	c.rec.close(c.log)
	c.srv.forget(c, cause)

	attrs := []any{"cause", cause, "duration", time.Since(c.info.StartedAt).Round(time.Millisecond)}
	if c.media != nil {
		attrs = append(attrs, c.media.stats()...)
	}
	c.evMu.Lock()
	if c.dropped > 0 {
		attrs = append(attrs, "digits_dropped", c.dropped)
	}
	c.evMu.Unlock()
	c.log.Info("call ended", attrs...)
	c.srv.recordEnd(c.Info(), cause)

	c.evMu.Lock()
	c.events <- telephony.Event{Kind: telephony.EventHangup, Cause: cause, At: time.Now()}
	close(c.events)
	c.evMu.Unlock()
	close(c.done)
}

// endDialog sends what the SIP dialog needs for the call to end.
func (c *call) endDialog(cause telephony.Cause, answered bool) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	switch {
	case c.uac != nil:
		if cause != telephony.CauseCallerHangup {
			if err := c.uac.Bye(ctx); err != nil {
				c.log.Warn("bye failed", "error", err)
			}
		}
		_ = c.uac.Close()
	case c.uas != nil:
		// sipgo ends the INVITE transaction itself on BYE (either way);
		// an unanswered one lives on for its retransmission timers.
		if !answered {
			c.rejectUnanswered(cause)
			return
		}
		if cause == telephony.CauseAckTimeout {
			// Stop retransmitting the 200: BYE may go once the INVITE
			// transaction is over (RFC 3261 §15).
			c.inviteTx.Terminate()
		}
		if cause != telephony.CauseCallerHangup {
			if err := c.uas.Bye(ctx); err != nil {
				c.log.Warn("bye failed", "error", err)
			}
		}
		_ = c.uas.Close()
	}
}

// rejectUnanswered sends the final response to an INVITE we never
// answered. A CANCEL already got its 487 from the transaction layer.
func (c *call) rejectUnanswered(cause telephony.Cause) {
	code, reason := 480, "Temporarily Unavailable"
	switch cause {
	case telephony.CauseCanceled:
		return
	case telephony.CauseShutdown:
		code, reason = 503, "Service Unavailable"
	case telephony.CauseFailed:
		code, reason = 500, "Server Internal Error"
	}
	// Straight to the transaction, not through the dialog, whose final
	// response would wait for the ACK and hold up the teardown.
	res := sip.NewResponseFromRequest(c.uas.InviteRequest, code, reason, nil)
	res.AppendHeader(c.srv.serverHeader())
	if code == 503 {
		res.AppendHeader(c.srv.retryAfter())
	}
	if err := c.inviteTx.Respond(res); err != nil {
		c.log.Debug("final response failed", "code", code, "error", err)
		return
	}
	c.srv.metrics.SIPResponse(sip.INVITE.String(), code)
}

// digit delivers one key press, unless another route already did (the
// Merger) or the call is ending. It is called from the media receive
// loop and from INFO handlers.
func (c *call) digit(ev dtmf.Event) {
	if c.xfer.isBridged() {
		return // not forwarded to the consultant (sip_bridge.go)
	}
	now := time.Now()
	c.evMu.Lock()
	defer c.evMu.Unlock()
	select {
	case <-c.ending:
		return
	default:
	}
	if !c.merger.Add(ev, now) {
		return
	}
	if len(c.events) >= cap(c.events)-1 {
		c.dropped++
		return
	}
	// Noted before the handler can see the key: a reply it starts at once
	// must be of a later Play generation than the press (playout.Queue).
	c.media.digitDelivered(now)
	c.events <- telephony.Event{Kind: telephony.EventDTMF, Digit: ev.Digit, Source: ev.Source.String(), At: now}
	c.srv.metrics.Digit(ev.Source.String())
	// The digit itself is not logged: callers key in case numbers and
	// dates of birth.
	c.log.Debug("dtmf", "source", ev.Source.String())
}
