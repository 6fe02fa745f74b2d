package sipgw

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/playout"
)

// rtpHeaderSize is the fixed RTP header (RFC 3550 §5.1): we send no CSRCs
// and no extensions.
const rtpHeaderSize = 12

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
		pacer   = playout.NewPacer(m.epoch)
		marker  = true
		talking bool
		last    time.Time // when the previous packet went out
	)
	defer pacer.Stop()
	// frame is this tick's frame of Play (gen its Play), if have: a
	// value, as a pointer would put one allocation per packet on the heap.
	var (
		frame audio.Frame
		gen   uint64
		have  bool
	)
	for {
		if m.cfg.DTX && !talking {
			// Nothing to send until a Play starts: sleep instead of ticking.
			if gen, have = m.out.Wait(m.stopSend, &frame); !have {
				return
			}
			pacer.Resume()
		} else {
			if !pacer.Wait(m.stopSend) {
				return
			}
			gen, have = m.out.Next(&frame)
		}
		p := m.params.Load()
		var sent []int16 // for OnAudioOut
		switch {
		case have:
			payload = encodeG711(payload[:0], p.Codec, frame[:])
			talking, sent = true, frame[:]
		case m.cfg.DTX:
			talking, marker = false, true // the talkspurt ended: mark the next one
			pacer.Next()
			continue
		default:
			payload = encodeG711(payload[:0], p.Codec, silence[:])
			talking, sent = false, silence[:]
		}
		pkt.PayloadType = p.Codec.PT
		pkt.Timestamp = ts0 + uint32(pacer.Tick()*audio.FrameSamples)
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
			m.replied(gen, now)
		}
		m.write(&pkt, buf)
		if m.cfg.OnAudioOut != nil {
			m.cfg.OnAudioOut(pacer.Offset(), sent)
		}
		marker = false
		pkt.SequenceNumber++
		pacer.Next()
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

// play implements Leg.Play: it queues src's frames for the send loop,
// which paces them (playout.Queue.Play). ended is closed when the leg
// ends.
func (m *media) play(ctx context.Context, ended <-chan struct{}, src telephony.FrameSource) error {
	return m.out.Play(ctx, ended, src)
}
