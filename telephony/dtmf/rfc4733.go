package dtmf

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Packet is the part of an RTP packet the Decoder needs. The caller
// classifies packets by payload type (the telephone-event PT comes from the
// SDP: 101 from sipp, 126 from Chrome, anything from others) and passes only
// telephone-event packets.
type Packet struct {
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	Marker         bool
	Payload        []byte
}

// Payload is one RFC 4733 §2.3 telephone-event payload.
type Payload struct {
	Event    uint8  // 0-15 are DTMF keys; see DigitForEvent
	End      bool   // the E bit: the event has ended
	Volume   uint8  // 0-63, −dBm0 (6 bits)
	Duration uint16 // in timestamp units since the event's timestamp
}

// payloadSize is the fixed size of one telephone-event payload.
const payloadSize = 4

// ParsePayload decodes the first 4 bytes of b. Extra bytes are ignored.
func ParsePayload(b []byte) (Payload, error) {
	if len(b) < payloadSize {
		return Payload{}, fmt.Errorf("%w (got %d)", ErrShortPayload, len(b))
	}
	return Payload{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, nil
}

// Append encodes p onto b (for tests and for sending DTMF).
func (p Payload) Append(b []byte) []byte {
	flags := p.Volume & 0x3f
	if p.End {
		flags |= 0x80
	}
	return binary.BigEndian.AppendUint16(append(b, p.Event, flags), p.Duration)
}

const (
	// recentEvents is how many past events the Decoder remembers to drop
	// late or duplicated packets of events already reported.
	recentEvents = 16
	// longEventSlack: RFC 4733 §2.5.1.3 splits an event longer than the
	// 16-bit duration into segments with new timestamps. A new timestamp is
	// taken as such a segment only if the previous segment had reached
	// this close to 0xFFFF (a few lost packets' worth).
	longEventSlack = 1600
)

type seenEvent struct {
	ts     uint32
	code   uint8
	maxDur uint16
	ended  bool
}

// Decoder turns a stream of telephone-event packets into key presses,
// reporting each event exactly once, as soon as any of its packets is seen.
// Events are identified by RTP timestamp (RFC 4733 §2.5.1), not by the
// marker bit, so it copes with a lost or missing first packet, a first
// packet with duration 0 (sipp), repeated end packets, lost end packets
// and duplicated or reordered packets. The zero value is ready to use; a
// Decoder is not safe for concurrent use.
type Decoder struct {
	// ClockRate of the telephone-event payload type; 0 means 8000.
	ClockRate int

	recent [recentEvents]seenEvent
	n      int // valid entries in recent
	next   int // ring index for the next insertion
	last   int // index of the newest entry (valid when n > 0)
}

// Packet feeds one telephone-event packet. It returns the key press when
// this packet is the first one seen of a new DTMF event; ok is false for
// every other packet, and for non-DTMF events (codes above 15), which are
// ignored. A malformed payload returns an error and changes nothing.
func (d *Decoder) Packet(p Packet) (ev Event, ok bool, err error) {
	pl, err := ParsePayload(p.Payload)
	if err != nil {
		return Event{}, false, err
	}
	digit, isDTMF := DigitForEvent(pl.Event)
	if !isDTMF {
		return Event{}, false, nil
	}
	if s := d.find(p.Timestamp, pl.Event); s != nil {
		if !(s.ended && p.Marker && !pl.End) {
			s.maxDur = max(s.maxDur, pl.Duration)
			s.ended = s.ended || pl.End
			return Event{}, false, nil
		}
		// A new start (marker bit, RFC 4733 §2.5.1.2) of an event that
		// already ended, at the same timestamp: a replayed recording of
		// the same key (sipp's pcaps carry fixed timestamps), so a new
		// press. A real sender never reuses an ended event's timestamp.
		*s = seenEvent{ts: p.Timestamp, code: pl.Event, maxDur: pl.Duration}
		return Event{Digit: digit, Source: SourceRFC4733, Timestamp: p.Timestamp, Duration: d.duration(pl.Duration)}, true, nil
	}
	continues := d.continuesLast(p.Timestamp, pl.Event)
	d.remember(seenEvent{ts: p.Timestamp, code: pl.Event, maxDur: pl.Duration, ended: pl.End})
	if continues {
		return Event{}, false, nil
	}
	return Event{
		Digit:     digit,
		Source:    SourceRFC4733,
		Timestamp: p.Timestamp,
		Duration:  d.duration(pl.Duration),
	}, true, nil
}

func (d *Decoder) find(ts uint32, code uint8) *seenEvent {
	for i := range d.n {
		if s := &d.recent[i]; s.ts == ts && s.code == code {
			return s
		}
	}
	return nil
}

// continuesLast reports whether an event at ts is the next segment of a
// long event (RFC 4733 §2.5.1.3): same key, the previous segment never
// ended and had nearly exhausted its 16-bit duration, and ts is where that
// duration ran out.
func (d *Decoder) continuesLast(ts uint32, code uint8) bool {
	if d.n == 0 {
		return false
	}
	last := d.recent[d.last]
	if last.code != code || last.ended || last.maxDur < 0xFFFF-longEventSlack {
		return false
	}
	step := ts - last.ts
	return step >= uint32(last.maxDur) && step <= 0xFFFF+1
}

func (d *Decoder) remember(s seenEvent) {
	d.recent[d.next] = s
	d.last = d.next
	d.next = (d.next + 1) % recentEvents
	d.n = min(d.n+1, recentEvents)
}

func (d *Decoder) duration(units uint16) time.Duration {
	rate := d.ClockRate
	if rate <= 0 {
		rate = sampleRate
	}
	return time.Duration(units) * time.Second / time.Duration(rate)
}
