// Package telephony is the contract between the call gateways (SIP in
// telephony/sipgw, WebRTC in telephony/webrtcgw) and whoever handles a
// call (the assistant). Like net/http, it is handler-shaped: a gateway
// turns each call into a Leg and hands it to a Handler; when ServeCall
// returns, the gateway hangs up. telephony never imports the assistant or
// dialogs; audio is 8 kHz PCM in 20 ms frames (telephony/audio), digits
// are events, and every leg ends with exactly one termination Cause.
package telephony

import (
	"context"
	"errors"
	"time"

	"hotline/telephony/audio"
)

// Errors callers branch on.
var (
	// ErrLegClosed: the leg has ended; no more audio or events.
	ErrLegClosed = errors.New("telephony: leg closed")
	// ErrTransferFailed: the transfer target did not take the call; the
	// leg is still up and back with its handler.
	ErrTransferFailed = errors.New("telephony: transfer failed")
	// ErrNotSupported: the leg cannot do this (e.g. transfer on a leg type
	// without a transfer mechanism).
	ErrNotSupported = errors.New("telephony: not supported")
)

// Cause is why a leg ended: one per leg, recorded in logs, metrics and
// Redis. The zero value means the leg is still up.
type Cause string

// Termination causes.
const (
	CauseNone         Cause = ""
	CauseCallerHangup Cause = "caller_hung_up" // the remote party hung up (BYE)
	CauseBotHangup    Cause = "bot_hung_up"    // the handler ended the call
	CauseTransferred  Cause = "transferred"    // handed to a consultant (REFER accepted or bridge ended)
	CauseCanceled     Cause = "canceled"       // the caller gave up before answer (CANCEL)
	CauseMediaTimeout Cause = "media_timeout"  // no RTP for the media timeout
	CauseAckTimeout   Cause = "ack_timeout"    // our 200 OK was never acknowledged
	CauseShutdown     Cause = "shutdown"       // the instance stopped
	CauseFailed       Cause = "failed"         // anything else (network, protocol, handler error)
)

// Direction of a call.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// LegInfo describes a leg for logs and for the handler.
type LegInfo struct {
	ID        string    // our id for the leg (also the session id)
	Type      string    // "sip" | "webrtc"
	Direction Direction //
	From      string    // caller (SIP From URI user, or "browser")
	To        string    // called (SIP request URI user)
	CallID    string    // SIP Call-ID, if SIP
	Remote    string    // remote media address
	Codec     string    // "PCMU" | "PCMA"
	StartedAt time.Time
	Recording string // path of the call's stereo WAV recording; "" if not recorded
}

// EventKind is the kind of a leg Event.
type EventKind uint8

// Event kinds.
const (
	EventUnknown EventKind = iota
	EventDTMF              // a key press, deduplicated across RFC 4733, SIP INFO and in-band
	EventHangup            // the leg ended; Cause tells why. The last event.
)

// Event is something that happened on a leg.
type Event struct {
	Kind   EventKind
	Digit  rune   // EventDTMF: 0-9 * # A-D
	Source string // EventDTMF: "rfc4733" | "info" | "inband"
	At     time.Time
	Cause  Cause // EventHangup
}

// FrameSource is audio to play, pulled one 20 ms frame at a time
// (telephony/speech streams satisfy it). ReadFrame returns io.EOF at the end.
type FrameSource interface {
	ReadFrame(f *audio.Frame) error
}

// TransferRequest asks a leg's gateway to hand the call to a consultant.
type TransferRequest struct {
	// Target is where to: a SIP URI (REFER Refer-To, or the consultant
	// leg to dial for a bridge). Empty: the gateway's configured target.
	Target string
	// Headers carry the call's context to the consultant (bridge mode:
	// X-Hotline-* headers on the INVITE).
	Headers map[string]string
}

// Leg is one party of a call as the handler sees it. Methods are safe for
// concurrent use; ReadAudio and Events each have one consumer.
type Leg interface {
	// Info describes the leg.
	Info() LegInfo
	// Done is closed when the leg has ended; Cause then says why.
	Done() <-chan struct{}
	Cause() Cause
	// Events delivers digits and, last, the hangup. It is closed after
	// the hangup event.
	Events() <-chan Event
	// ReadAudio fills f with the next 20 ms of the remote party's audio
	// (silence where packets were missing). It returns ErrLegClosed after
	// the end.
	ReadAudio(ctx context.Context, f *audio.Frame) error
	// Play sends src to the remote party, paced at 20 ms per frame, until
	// src ends (nil), ctx is cancelled (barge-in: ctx's error), or the leg
	// ends (ErrLegClosed). One Play at a time.
	Play(ctx context.Context, src FrameSource) error
	// Transfer hands the call to a consultant and blocks until the
	// outcome; the caller hears ringback meanwhile. It returns:
	//   - nil: the consultant took the call, and the leg has ENDED with
	//     CauseTransferred. A blind transfer (REFER) returns once the
	//     call was handed over; a bridge returns only when the bridged
	//     conversation is over (either side hung up, which ends both).
	//     The handler then just returns: the leg is already down.
	//   - ErrTransferFailed (wrapped with the reason): the consultant did
	//     not take it; the leg is up, its audio restored, and back with
	//     the handler (offer a callback).
	//   - ErrLegClosed: the caller hung up meanwhile.
	// ctx bounds the attempt, not a bridged conversation. Do not Play
	// while Transfer runs; while a bridge owns the leg, ReadAudio and
	// Play wait for the leg to end and digits are not delivered.
	Transfer(ctx context.Context, req TransferRequest) error
	// Hangup ends the leg (BYE, or a final response if not yet answered)
	// and records cause. It is idempotent; the first cause wins.
	Hangup(ctx context.Context, cause Cause) error
}

// Handler handles calls. ServeCall runs for the life of the call; when it
// returns, the gateway hangs up (CauseBotHangup if the leg is still up).
type Handler interface {
	ServeCall(ctx context.Context, leg Leg) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, leg Leg) error

// ServeCall calls f.
func (f HandlerFunc) ServeCall(ctx context.Context, leg Leg) error { return f(ctx, leg) }

// Note is a message for the person on a leg's screen (the browser call
// page), not for their ear: the assistant's line as a subtitle, the call
// state, a transfer in progress, the hangup.
type Note struct {
	Kind string            // NoteSubtitle, NoteState, NoteTransfer, NoteHangup …
	Text string            // human-readable (Polish) text, if any
	Data map[string]string // details, e.g. "state": "connected"
}

// Note kinds.
const (
	NoteSubtitle = "subtitle" // Text: what the assistant says
	NoteState    = "state"    // Data["state"]: the call's state
	NoteTransfer = "transfer" // Data["state"]: "started" | "failed" | "done"
	NoteHangup   = "hangup"   // Data["cause"]: the termination cause
)

// Notifier is implemented by legs that have a screen beside the audio
// (WebRTC): handlers type-assert a Leg to it. Notify never blocks the
// call; notes may be dropped when the screen cannot keep up.
type Notifier interface {
	Notify(n Note)
}
