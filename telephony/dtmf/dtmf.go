// Package dtmf turns the three ways a caller's key press reaches us into one
// kind of Event: RFC 4733 telephone-event RTP payloads (Decoder), SIP INFO
// bodies (ParseInfo) and in-band dual tones in the decoded audio (Detector).
// A Merger removes the duplicates when one press arrives by two routes.
//
// Everything here is pure: no goroutines, no I/O, no clocks. The SIP and
// WebRTC legs feed it what they receive and forward the events it returns.
package dtmf

import (
	"errors"
	"fmt"
	"time"
)

// Source names the route by which a key press arrived.
type Source uint8

// Sources of key presses. The zero value is SourceUnknown.
const (
	SourceUnknown Source = iota
	// SourceRFC4733 is an RTP telephone-event payload (RFC 4733).
	SourceRFC4733
	// SourceInfo is a SIP INFO request (application/dtmf-relay or application/dtmf).
	SourceInfo
	// SourceInBand is a dual tone detected in the audio itself.
	SourceInBand
)

var sourceNames = [...]string{"unknown", "rfc4733", "info", "inband"}

// String returns the source's short name.
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// Event is one key press.
type Event struct {
	// Digit is one of '0'-'9', '*', '#', 'A'-'D'.
	Digit rune
	// Source is the route the press arrived by.
	Source Source
	// Start is, for in-band events, the offset of the tone's start from the
	// first sample the Detector was given. Zero for the other sources.
	Start time.Duration
	// Timestamp is, for RFC 4733 events, the RTP timestamp that identifies
	// the event (the same clock as the call's audio). Zero otherwise.
	Timestamp uint32
	// Duration is how long the key had been down when the event was
	// emitted: the detection span (in-band), the duration field of the
	// packet that produced the event (RFC 4733, often 0 on the first
	// packet) or the Duration line of the INFO body. Events are emitted as
	// early as possible, so this is not the full press length.
	Duration time.Duration
}

// Errors callers may branch on.
var (
	// ErrShortPayload: a telephone-event payload shorter than 4 bytes.
	ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")
	// ErrUnsupportedContentType: an INFO body type that carries no DTMF we know.
	ErrUnsupportedContentType = errors.New("dtmf: unsupported INFO content type")
	// ErrMalformedInfo: an INFO body without a valid signal.
	ErrMalformedInfo = errors.New("dtmf: malformed INFO body")
)

// eventDigits maps RFC 4733 §3.2 event codes 0-15 to key names.
const eventDigits = "0123456789*#ABCD"

// DigitForEvent returns the key for an RFC 4733 event code (0-15), and false
// for codes that are not DTMF (flash, fax tones, line events…).
func DigitForEvent(code uint8) (rune, bool) {
	if int(code) >= len(eventDigits) {
		return 0, false
	}
	return rune(eventDigits[code]), true
}

// EventForDigit returns the RFC 4733 event code for a key ('a'-'d' are
// accepted as 'A'-'D'), and false if r is not a DTMF key.
func EventForDigit(r rune) (uint8, bool) {
	if r >= 'a' && r <= 'd' {
		r -= 'a' - 'A'
	}
	for i := 0; i < len(eventDigits); i++ {
		if rune(eventDigits[i]) == r {
			return uint8(i), true
		}
	}
	return 0, false
}
