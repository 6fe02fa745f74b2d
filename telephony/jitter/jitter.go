// Package jitter is the receive-side jitter buffer the gateways
// (telephony/sipgw, telephony/webrtcgw) put between their RTP receive
// loop and a leg's ReadAudio: it reorders decoded audio by RTP timestamp
// and hands it out as 20 ms frames on the call's media clock, so both
// gateways give the handler the same, time-aligned audio.
package jitter

import (
	"context"
	"sync"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
)

// Buffer geometry.
const (
	// Frames is the ring size: 1 s of audio. Packets further ahead than
	// this of the reader push the reader forward; a reader further behind
	// than this skips to the present.
	Frames = 50
	// Delay is how long past a frame's nominal end the reader waits for
	// its packets before playing silence: 60 ms absorbs ordinary network
	// jitter and reordering without making a bot feel slow to react.
	Delay = 60 * time.Millisecond
	// Resync is how far a stream's timestamps may stray from the wall
	// clock before it is treated as a new stream (a sender restart, a
	// re-INVITE to another media server) and re-anchored.
	Resync = time.Second
)

type slot struct {
	idx int64 // frame index held, −1 when empty
	n   int   // samples written into it (≥ FrameSamples: complete)
	pcm audio.Frame
}

// Buffer reorders decoded audio by RTP timestamp and hands it out as
// 20 ms frames on a clock that starts with the media session, so what
// Read returns is time-aligned with the call: silence before the first
// packet, silence where packets were lost, packets in timestamp order.
// Frame k covers [start+k·20ms, start+(k+1)·20ms); it is handed out as
// soon as it is complete, or Delay after its end with whatever arrived
// (silence for the rest).
//
// The ring (1 s of audio, 17 KB) is allocated by the first read: a
// handler that never listens (keypad only, no speech recognition) costs
// no buffer, and a reader that starts late — a bridge taking over a
// keypad call — starts at the present instead of a second in the past.
// Until then Push only keeps the timestamp mapping, which a recording
// needs.
//
// One goroutine pushes (the receive loop), one reads (the handler).
type Buffer struct {
	start time.Time
	// notify wakes the reader after a push (capacity 1: a doorbell).
	notify chan struct{}

	mu      sync.Mutex
	slots   *[Frames]slot // nil until the first read (attach)
	readIdx int64
	// Mapping of the current stream's RTP timestamps to sample positions
	// (samples since start).
	anchored bool
	ssrc     uint32
	refTS    uint32
	refPos   int64
	// Counters for the call's final log line.
	late, resyncs int

	readMu sync.Mutex // one reader at a time; guards timer
	timer  *time.Timer
}

// Stats counts what the buffer could not place.
type Stats struct {
	// Late is the number of packets (or parts of them) that arrived after
	// their frame was handed out, or from before the session started.
	Late int
	// Resyncs is how often a stream's timestamps strayed more than Resync
	// from the clock and the stream was re-anchored.
	Resyncs int
}

// New returns a buffer whose media clock (frame 0) starts at start.
func New(start time.Time) *Buffer {
	return &Buffer{start: start, notify: make(chan struct{}, 1)}
}

// attach allocates the ring for a reader starting at now, which reads
// from the frame playing then on. Called with mu held; idempotent.
func (j *Buffer) attach(now time.Time) {
	if j.slots != nil {
		return
	}
	j.slots = new([Frames]slot)
	for i := range j.slots {
		j.slots[i].idx = -1
	}
	j.readIdx = max(j.readIdx, j.frameAt(now))
}

// Listening reports whether a reader has attached (read once), so that
// the buffer keeps audio.
func (j *Buffer) Listening() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.slots != nil
}

// frameAt returns the index of the frame playing at t.
func (j *Buffer) frameAt(t time.Time) int64 {
	d := t.Sub(j.start)
	if d < 0 {
		return 0
	}
	return int64(d / audio.FrameDuration)
}

// Push stores the decoded samples of one RTP packet (stream ssrc, RTP
// timestamp ts at 8 kHz) received at now and returns where they start,
// in samples since start (negative: before it). pcm is not kept.
func (j *Buffer) Push(now time.Time, ssrc, ts uint32, pcm []int16) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	live := j.frameAt(now) * audio.FrameSamples
	var pos int64
	if j.anchored && ssrc == j.ssrc {
		pos = j.refPos + int64(int32(ts-j.refTS)) // signed: wraps and reordering
		if d := audio.Duration(int(pos - live)); d > Resync || d < -Resync {
			j.anchored = false
			j.resyncs++
		}
	}
	if !j.anchored || ssrc != j.ssrc {
		// A new stream starts now, on a frame boundary, so 20 ms packets
		// fill whole frames.
		j.anchored, j.ssrc = true, ssrc
		pos = live
		j.refTS, j.refPos = ts, pos
	}
	if pos > j.refPos {
		j.refTS, j.refPos = ts, pos
	}
	placed := pos
	if j.slots == nil { // nobody reads: nothing to keep
		return placed
	}
	if pos < 0 { // older than the session itself
		skip := min(int64(len(pcm)), -pos)
		pcm, pos = pcm[skip:], pos+skip
		j.late++
	}
	for len(pcm) > 0 {
		idx := pos / audio.FrameSamples
		off := int(pos % audio.FrameSamples)
		n := min(len(pcm), audio.FrameSamples-off)
		if idx < j.readIdx {
			j.late++
		} else {
			if idx >= j.readIdx+Frames {
				j.readIdx = idx - Frames + 1 // nobody is reading: drop the oldest
			}
			s := &j.slots[idx%Frames]
			if s.idx != idx {
				s.idx, s.n = idx, 0
				clear(s.pcm[:])
			}
			copy(s.pcm[off:off+n], pcm[:n])
			s.n += n
		}
		pcm, pos = pcm[n:], pos+int64(n)
	}
	select {
	case j.notify <- struct{}{}:
	default:
	}
	return placed
}

// Read fills f with the next frame, waiting until it is complete or due.
// It returns ctx's error, or telephony.ErrLegClosed when closed is closed
// (nil: never).
func (j *Buffer) Read(ctx context.Context, closed <-chan struct{}, f *audio.Frame) error {
	j.readMu.Lock()
	defer j.readMu.Unlock()
	for {
		wait, ok := j.tryRead(time.Now(), f)
		if ok {
			return nil
		}
		if j.timer == nil {
			j.timer = time.NewTimer(wait)
		} else {
			j.timer.Reset(wait)
		}
		select {
		case <-j.notify:
		case <-j.timer.C:
		case <-closed:
			return telephony.ErrLegClosed
		case <-ctx.Done():
			return ctx.Err()
		}
		j.timer.Stop()
	}
}

// tryRead hands out the next frame if it is complete or due at now, else
// says how long until it is due.
func (j *Buffer) tryRead(now time.Time, f *audio.Frame) (time.Duration, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.attach(now)
	if live := j.frameAt(now); j.readIdx <= live-Frames {
		// The reader fell more than the ring behind: older frames are gone,
		// so continue from the oldest one the ring can still hold. Due
		// frames are handed out at once, so the reader catches up quickly.
		j.readIdx = live - Frames + 1
	}
	k := j.readIdx
	s := &j.slots[k%Frames]
	due := j.start.Add(time.Duration(k+1)*audio.FrameDuration + Delay)
	if s.idx == k && s.n >= audio.FrameSamples || !now.Before(due) {
		if s.idx == k {
			*f = s.pcm
			s.idx = -1
		} else {
			*f = audio.Frame{}
		}
		j.readIdx++
		return 0, true
	}
	return due.Sub(now), false
}

// Stats returns the late-packet and resync counters.
func (j *Buffer) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Stats{Late: j.late, Resyncs: j.resyncs}
}
