package sipgw

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pion/rtp"

	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
	"hotline/telephony/telemetry"
)

const (
	// ptComfortNoise is RFC 3389 CN: the jitter buffer already plays
	// silence for the gap, so CN packets are accepted and dropped quietly.
	ptComfortNoise = 13
	// relatchAfter: packets from a new source take over the latch only
	// once the latched source has been quiet this long (an SBC moving
	// ports), so stray or injected packets cannot hijack a live stream.
	relatchAfter = 500 * time.Millisecond
	// ignoredLogEvery rate-limits the "unexpected payload type" log.
	ignoredLogEvery = 10 * time.Second
	maxRTPPacket    = 1500
)

// recvLoop reads RTP until the media stops or times out. It is the media
// watchdog too: the socket's read deadline is the time the next packet
// is due by (MediaTimeoutInitial before the first, MediaTimeout after).
func (m *media) recvLoop() {
	defer m.wg.Done()
	var (
		buf = make([]byte, maxRTPPacket)
		pkt rtp.Packet
		// Room for a 40 ms packet; a larger one grows it once.
		pcm       = make([]int16, 0, 2*audio.FrameSamples)
		latched   netip.AddrPort
		lastValid = m.epoch
		timeout   = m.cfg.InitialTimeout
		lastLog   time.Time
		decoder   dtmf.Decoder
		detector  dtmf.Detector
		stats     = telemetry.NewReceiver(audio.Rate)
	)
	defer func() { m.cfg.Metrics.StreamEnded(stats.Stats()) }()
	for {
		if err := m.conn.SetReadDeadline(lastValid.Add(timeout)); err != nil {
			m.log.Warn("rtp read deadline", "error", err)
			return
		}
		if m.stopping.Load() {
			return
		}
		n, from, err := m.conn.ReadFromUDPAddrPort(buf)
		now := time.Now()
		if err != nil {
			if m.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if p := m.params.Load(); p.Direction == "recvonly" || p.Direction == "inactive" {
					// On hold (RFC 3264 §8.4): the remote sends nothing by
					// agreement, so silence is not a dead call.
					lastValid = now
					continue
				}
				m.log.Info("media timeout", "after", now.Sub(lastValid).Round(time.Millisecond),
					"first_packet_seen", latched.IsValid())
				m.cfg.OnTimeout()
				return
			}
			m.log.Debug("rtp read", "error", err) // e.g. ICMP port unreachable: keep going
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if err := pkt.Unmarshal(buf[:n]); err != nil || pkt.Version != 2 {
			m.ignored.Add(1)
			continue
		}
		if m.relatch.CompareAndSwap(true, false) {
			// A re-INVITE moved the remote's media: send to the new SDP
			// address now, and let another source take over only the way
			// a moved source does (after relatchAfter), rather than
			// re-latching at once to whatever old packet arrives first.
			latched, lastValid = m.remoteAddr(), now
		}
		switch {
		case !latched.IsValid():
			m.latch(from, "first packet")
			latched, timeout = from, m.cfg.Timeout
		case from != latched:
			if now.Sub(lastValid) < relatchAfter {
				m.foreign.Add(1)
				continue
			}
			m.latch(from, "source moved")
			latched = from
		}
		lastValid = now
		m.pktsIn.Add(1)
		m.cfg.Metrics.PacketIn()
		stats.Packet(pkt.SSRC, pkt.SequenceNumber)

		p := m.params.Load()
		if c, ok := p.audioCodec(pkt.PayloadType); ok {
			stats.Audio(pkt.Timestamp, now.Sub(m.epoch))
			pcm = decodeG711(pcm[:0], c, pkt.Payload)
			pos := m.jb.Push(now, pkt.SSRC, pkt.Timestamp, pcm)
			if m.cfg.OnAudioIn != nil {
				m.cfg.OnAudioIn(audio.Duration(int(pos)), pcm)
			}
			for _, ev := range detector.Process(pcm) {
				m.cfg.OnDigit(ev)
			}
			continue
		}
		if p.DTMF && pkt.PayloadType == p.DTMFPT {
			ev, ok, err := decoder.Packet(dtmf.Packet{
				PayloadType:    pkt.PayloadType,
				SequenceNumber: pkt.SequenceNumber,
				Timestamp:      pkt.Timestamp,
				Marker:         pkt.Marker,
				Payload:        pkt.Payload,
			})
			if err != nil {
				m.ignored.Add(1)
			} else if ok {
				m.cfg.OnDigit(ev)
			}
			continue
		}
		m.ignored.Add(1)
		if pkt.PayloadType != ptComfortNoise && now.Sub(lastLog) >= ignoredLogEvery {
			lastLog = now
			m.log.Debug("rtp payload type not negotiated; ignoring", "pt", pkt.PayloadType)
		}
	}
}

// latch points our sending at the source of the remote's RTP.
func (m *media) latch(from netip.AddrPort, why string) {
	if sdp := m.remoteAddr(); sdp != from {
		m.log.Debug("rtp latched", "why", why, "sdp_addr", sdp.String(), "source", from.String())
	}
	m.remote.Store(&from)
}

// decodeG711 appends the linear samples of a G.711 payload to dst.
func decodeG711(dst []int16, c codec, payload []byte) []int16 {
	if c.Name == codecPCMA {
		return audio.DecodeAlaw(dst, payload)
	}
	return audio.DecodeUlaw(dst, payload)
}

// encodeG711 appends the G.711 encoding of pcm to dst.
func encodeG711(dst []byte, c codec, pcm []int16) []byte {
	if c.Name == codecPCMA {
		return audio.EncodeAlaw(dst, pcm)
	}
	return audio.EncodeUlaw(dst, pcm)
}
