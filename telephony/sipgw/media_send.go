package sipgw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"

	"hotline/telephony"
	"hotline/telephony/audio"
)

const (
	// sendQueueFrames is how far Play may run ahead of the wire (60 ms):
	// enough to ride out a source that is briefly slow, short enough that
	// barge-in stops the prompt at once.
	sendQueueFrames = 3
	// maxSendLag is how late a tick may be before the loop gives up on
	// the missed ticks (a GC pause, an overloaded host) instead of sending
	// a burst; the timestamp jump tells the receiver what happened.
	maxSendLag    = 3 * audio.FrameDuration
	rtpHeaderSize = 12
)

// sendItem is one frame queued by Play, or (flush != nil) a marker that
// the sender closes once every frame queued before it has been sent.
type sendItem struct {
	gen   uint64
	frame audio.Frame
	flush chan struct{}
}

// sendLoop sends one packet per 20 ms tick on the monotonic clock: tick n
// is due at epoch+n·20ms and carries RTP timestamp ts0+n·160, so drift
// does not accumulate and timestamps keep running through silence (RFC
// 3550 §5.1). A tick takes the next queued frame of the current Play; with
// none it sends µ-law/A-law silence, or nothing under DTX.
//
// The marker bit (RFC 3551 §4.1) is set on the first packet of the stream
// and, under DTX, on the first packet after each pause. Without silence
// suppression the stream is one talkspurt, and §4.1 then wants no further
// markers.
func (m *media) sendLoop() {
	defer m.wg.Done()
	var (
		pkt = rtp.Packet{Header: rtp.Header{
			Version:        2,
			SequenceNumber: uint16(rand.Uint32()), // random starts: RFC 3550 §5.1
			SSRC:           rand.Uint32(),
		}}
		ts0     = rand.Uint32()
		buf     = make([]byte, rtpHeaderSize+audio.FrameSamples)
		payload = make([]byte, 0, audio.FrameSamples)
		silence audio.Frame
		timer   = time.NewTimer(time.Hour)
		marker  = true
		talking bool
		n       int64
		last    time.Time // when the previous packet went out
	)
	defer timer.Stop()
	// it is the frame to send this tick, if have: by value, as a pointer
	// would put one allocation per packet on the heap.
	var (
		it   sendItem
		have bool
	)
	for {
		if m.cfg.DTX && !talking {
			// Nothing to send until a Play starts: sleep instead of ticking.
			select {
			case q := <-m.sendQ:
				if !m.usable(&q) {
					continue
				}
				it, have = q, true
				// Resume on the tick grid, never reusing a tick's timestamp.
				n = max(n, int64(time.Since(m.epoch)/audio.FrameDuration))
			case <-m.stopSend:
				return
			}
		} else {
			due := m.epoch.Add(time.Duration(n) * audio.FrameDuration)
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-m.stopSend:
					return
				}
			} else if -wait > maxSendLag {
				n = int64(time.Since(m.epoch) / audio.FrameDuration)
			}
			have = m.nextItem(&it)
		}
		p := m.params.Load()
		var sent []int16 // for OnAudioOut
		switch {
		case have:
			payload = encodeG711(payload[:0], p.Codec, it.frame[:])
			talking, sent = true, it.frame[:]
		case m.cfg.DTX:
			talking, marker = false, true // the talkspurt ended: mark the next one
			n++
			continue
		default:
			payload = encodeG711(payload[:0], p.Codec, silence[:])
			talking, sent = false, silence[:]
		}
		pkt.PayloadType = p.Codec.PT
		pkt.Timestamp = ts0 + uint32(n*audio.FrameSamples)
		pkt.Marker = marker
		pkt.Payload = payload
		// Pacing as the wire sees it: the gap to the previous packet of
		// the talk spurt (a marked packet starts a new one), on the
		// monotonic clock, just before the write.
		now := time.Now()
		if !marker {
			m.cfg.Metrics.SendInterval(now.Sub(last))
		}
		last = now
		if have {
			m.replied(it.gen, now)
		}
		m.write(&pkt, buf)
		if m.cfg.OnAudioOut != nil {
			m.cfg.OnAudioOut(time.Duration(n)*audio.FrameDuration, sent)
		}
		marker = false
		pkt.SequenceNumber++
		n++
	}
}

// write sends one packet to the current remote address, if known.
func (m *media) write(pkt *rtp.Packet, buf []byte) {
	to := m.remoteAddr()
	if !to.IsValid() {
		return // no address in the SDP and nothing received yet
	}
	k, err := pkt.MarshalTo(buf)
	if err != nil {
		m.log.Debug("rtp marshal", "error", err)
		return
	}
	if _, err := m.conn.WriteToUDPAddrPort(buf[:k], to); err != nil {
		m.log.Debug("rtp send", "error", err)
		return
	}
	m.pktsOut.Add(1)
	m.cfg.Metrics.PacketOut()
}

// nextItem takes the next frame of the current Play into it without
// waiting, completing flush markers and dropping frames of aborted Plays.
// It reports whether there was one.
func (m *media) nextItem(it *sendItem) bool {
	for {
		select {
		case *it = <-m.sendQ:
			if m.usable(it) {
				return true
			}
		default:
			return false
		}
	}
}

// usable reports whether q is a frame to send now; flush markers are
// completed and stale frames dropped (false).
func (m *media) usable(q *sendItem) bool {
	if q.flush != nil {
		close(q.flush)
		return false
	}
	return q.gen == m.playGen.Load()
}

// play implements Leg.Play: it pulls frames from src and queues them for
// the send loop, which paces them. ended is closed when the leg ends.
func (m *media) play(ctx context.Context, ended <-chan struct{}, src telephony.FrameSource) error {
	select {
	case m.playSem <- struct{}{}:
		defer func() { <-m.playSem }()
	case <-ctx.Done():
		return ctx.Err()
	case <-ended:
		return telephony.ErrLegClosed
	}
	gen := m.playGen.Add(1)
	abort := func(err error) error {
		m.playGen.Add(1) // the sender drops what is still queued
		return err
	}
	it := sendItem{gen: gen}
	for {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		err := src.ReadFrame(&it.frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return abort(fmt.Errorf("sipgw: play: %w", err))
		}
		if err := m.enqueue(ctx, ended, it); err != nil {
			return abort(err)
		}
	}
	// Return when the last frame has gone out, not when it was queued, so
	// a hangup right after Play does not clip the end of the prompt.
	flush := make(chan struct{})
	if err := m.enqueue(ctx, ended, sendItem{gen: gen, flush: flush}); err != nil {
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

func (m *media) enqueue(ctx context.Context, ended <-chan struct{}, it sendItem) error {
	select {
	case m.sendQ <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-ended:
		return telephony.ErrLegClosed
	}
}
