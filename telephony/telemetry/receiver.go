package telemetry

import (
	"math"
	"time"
)

// maxDropout and maxMisorder are RFC 3550 A.1's bounds: a sequence
// number further ahead than maxDropout, or further behind than
// maxMisorder, is not the same sequence any more (the sender restarted).
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// ReceiverStats is what a Receiver measured.
type ReceiverStats struct {
	// Received counts packets; AudioPackets those that fed the jitter.
	Received, AudioPackets int64
	// Lost is expected − received over every sequence seen (RFC 3550
	// A.3); duplicates can offset losses, never below zero.
	Lost int64
	// Jitter is the interarrival jitter estimate (RFC 3550 §6.4.1).
	Jitter time.Duration
}

// Receiver keeps the RFC 3550 receive statistics of one leg's incoming
// RTP: packet loss from sequence numbers (A.1, A.3) and interarrival
// jitter (A.8). A new SSRC, or a sequence jump, starts a new sequence
// whose losses add to the previous ones'. It is used by one receive
// goroutine; the zero value is not usable, see NewReceiver.
type Receiver struct {
	clockRate float64

	started  bool
	ssrc     uint32
	baseSeq  uint32 // extended
	maxSeq   uint32 // extended: cycles<<16 | seq
	received int64
	lostPrev int64 // losses of earlier sequences
	total    int64 // packets over all sequences

	haveTransit bool
	transit     uint32  // arrival − timestamp of the last audio packet, in timestamp units
	jitter      float64 // in timestamp units
	audio       int64
}

// NewReceiver returns a Receiver for a stream with the given RTP clock
// rate (8000 for G.711).
func NewReceiver(clockRate int) *Receiver {
	return &Receiver{clockRate: float64(clockRate)}
}

// Packet accounts for one received packet of the stream (audio or not:
// telephone-events share the audio's sequence numbers).
func (r *Receiver) Packet(ssrc uint32, seq uint16) {
	r.total++
	if !r.started || ssrc != r.ssrc {
		r.restart(ssrc, seq)
		return
	}
	cur := r.maxSeq & 0xffff
	delta := uint16(seq - uint16(cur))
	switch {
	case delta == 0:
		r.received++ // duplicate
	case delta < maxDropout:
		if uint32(seq) < cur {
			r.maxSeq += 1 << 16 // wrapped: a new cycle
		}
		r.maxSeq = r.maxSeq&^0xffff | uint32(seq)
		r.received++
	case delta <= 1<<16-maxMisorder:
		r.restart(ssrc, seq) // a jump: the sender restarted its sequence
	default:
		r.received++ // reordered or duplicate: counted, max unchanged
	}
}

func (r *Receiver) restart(ssrc uint32, seq uint16) {
	if r.started {
		r.lostPrev += r.lost()
	}
	r.haveTransit = false // a new sequence has its own timestamps
	r.started, r.ssrc = true, ssrc
	r.baseSeq, r.maxSeq = uint32(seq), uint32(seq)
	r.received = 1
}

func (r *Receiver) lost() int64 {
	expected := int64(r.maxSeq) - int64(r.baseSeq) + 1
	return max(0, expected-r.received)
}

// Audio updates the jitter estimate with an audio packet's RTP timestamp
// and its arrival on the monotonic clock (any fixed origin). Per RFC 3550
// §6.4.1: D = (Rj − Ri) − (Sj − Si), J += (|D| − J)/16.
func (r *Receiver) Audio(ts uint32, arrival time.Duration) {
	r.audio++
	arr := uint32(int64(math.Round(arrival.Seconds() * r.clockRate)))
	transit := arr - ts
	if r.haveTransit {
		d := math.Abs(float64(int32(transit - r.transit)))
		r.jitter += (d - r.jitter) / 16
	}
	r.transit, r.haveTransit = transit, true
}

// Stats returns the statistics so far.
func (r *Receiver) Stats() ReceiverStats {
	st := ReceiverStats{Received: r.total, AudioPackets: r.audio, Lost: r.lostPrev}
	if r.started {
		st.Lost += r.lost()
	}
	if r.clockRate > 0 {
		st.Jitter = time.Duration(r.jitter / r.clockRate * float64(time.Second))
	}
	return st
}
