package webrtcgw

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
	"hotline/telephony/jitter"
	"hotline/telephony/playout"
	"hotline/telephony/telemetry"
)

// media is a leg's audio: the jitter buffer the handler reads, the paced
// sender Play feeds, and the counters for logs, metrics and the page.
type media struct {
	start time.Time // media clock zero: frame 0 of ReadAudio
	jb    *jitter.Buffer
	// out is what Play queues for the sender; it also times the reply to
	// a key press (Metrics.DTMFReply).
	out *playout.Queue
	// metrics is the gateway's per-leg-type metrics (nil: none).
	metrics *telemetry.Leg

	sendOnce  sync.Once
	stopOnce  sync.Once
	stopSend  chan struct{}
	sendEpoch time.Time

	lastRTPNanos atomic.Int64 // wall clock of the last RTP packet (or the start)
	pktsIn       atomic.Uint64
	pktsOut      atomic.Uint64
	ignored      atomic.Uint64
	digits       atomic.Uint64

	rxMu               sync.Mutex
	rxSumSq, rxN       float64 // the whole call
	rxWinSumSq, rxWinN float64 // since the last level report
	rxLastRMS          float64
}

// init readies the media state, reporting into metrics; the clock
// starts now.
func (m *media) init(metrics *telemetry.Leg) {
	now := time.Now()
	m.start = now
	m.jb = jitter.New(now)
	m.out = playout.New()
	m.metrics = metrics
	m.stopSend = make(chan struct{})
	m.lastRTPNanos.Store(now.UnixNano())
}

func (m *media) lastRTP() time.Time { return time.Unix(0, m.lastRTPNanos.Load()) }

// Stats is what a leg has received and sent so far.
type Stats struct {
	PacketsIn, PacketsOut, Ignored, Digits uint64
	// RxRMS is the RMS of all decoded audio received from the browser
	// (16-bit scale, 0 for digital silence): proof that the caller's
	// microphone reached us. RxLastRMS covers the audio since the
	// previous Stats call (the watchdog calls it once a second).
	RxRMS, RxLastRMS float64
}

// Stats returns the leg's counters.
func (m *media) Stats() Stats {
	st := Stats{
		PacketsIn: m.pktsIn.Load(), PacketsOut: m.pktsOut.Load(),
		Ignored: m.ignored.Load(), Digits: m.digits.Load(),
	}
	m.rxMu.Lock()
	if m.rxN > 0 {
		st.RxRMS = math.Sqrt(m.rxSumSq / m.rxN)
	}
	if m.rxWinN > 0 {
		m.rxLastRMS = math.Sqrt(m.rxWinSumSq / m.rxWinN)
		m.rxWinSumSq, m.rxWinN = 0, 0
	}
	st.RxLastRMS = m.rxLastRMS
	m.rxMu.Unlock()
	return st
}

func (m *media) addEnergy(pcm []int16) {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	m.rxMu.Lock()
	m.rxSumSq += sum
	m.rxN += float64(len(pcm))
	m.rxWinSumSq += sum
	m.rxWinN += float64(len(pcm))
	m.rxMu.Unlock()
}

// ptMap classifies the remote's packets by payload type, from the
// negotiated codecs: the browser picks the PTs (Chrome: 126 for
// telephone-event) and pion answers with them.
type ptMap struct {
	pcmu map[uint8]bool
	te   map[uint8]bool
}

func newPTMap(codecs []webrtc.RTPCodecParameters) ptMap {
	m := ptMap{pcmu: map[uint8]bool{}, te: map[uint8]bool{}}
	for _, c := range codecs {
		switch {
		case strings.EqualFold(c.MimeType, webrtc.MimeTypePCMU):
			m.pcmu[uint8(c.PayloadType)] = true
		case strings.EqualFold(c.MimeType, mimeTelephoneEv) && c.ClockRate == 8000:
			m.te[uint8(c.PayloadType)] = true
		}
	}
	if len(m.pcmu) == 0 {
		m.pcmu[ptPCMU] = true // static PT (RFC 3551), even if not listed
	}
	return m
}

// onTrack runs the receive loop of the browser's audio track.
func (l *Leg) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	pts := newPTMap(recv.GetParameters().Codecs)
	l.goLeg(func() { l.readRTCP(recv.ReadRTCP) })
	l.goLeg(func() { l.recvLoop(tr, pts) })
}

// recvLoop reads the browser's RTP until the PeerConnection closes. Each
// packet is classified by its own PT: pion's TrackRemote.Codec() follows
// the last packet read, so audio and telephone-event packets on the same
// SSRC cannot be told apart by the track (telephony.md §5). At the end it
// reports the stream's loss and jitter (RFC 3550) to the metrics.
func (l *Leg) recvLoop(tr *webrtc.TrackRemote, pts ptMap) {
	var (
		decoder dtmf.Decoder
		pcm     = make([]int16, 0, 1500)
		stats   = telemetry.NewReceiver(audio.Rate)
	)
	defer func() { l.metrics.StreamEnded(stats.Stats()) }()
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				l.log.Debug("rtp read", "error", err)
			}
			return
		}
		now := time.Now()
		l.lastRTPNanos.Store(now.UnixNano())
		l.pktsIn.Add(1)
		l.metrics.PacketIn()
		stats.Packet(pkt.SSRC, pkt.SequenceNumber)
		switch pt := pkt.PayloadType; {
		case pts.pcmu[pt]:
			stats.Audio(pkt.Timestamp, now.Sub(l.start))
			pcm = audio.DecodeUlaw(pcm[:0], pkt.Payload)
			l.addEnergy(pcm)
			l.jb.Push(now, pkt.SSRC, pkt.Timestamp, pcm)
		case pts.te[pt]:
			ev, ok, err := decoder.Packet(dtmf.Packet{
				PayloadType: pt, SequenceNumber: pkt.SequenceNumber,
				Timestamp: pkt.Timestamp, Marker: pkt.Marker, Payload: pkt.Payload,
			})
			switch {
			case err != nil:
				l.ignored.Add(1)
			case ok:
				l.digit(ev)
			}
		default:
			l.ignored.Add(1)
		}
	}
}

// readRTCP drains one RTCP stream (the interceptors need it read) and
// ends the leg on a BYE.
func (l *Leg) readRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error)) {
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.Goodbye); ok {
				l.onGoodbye()
			}
		}
	}
}

// startSending starts the paced sender once ICE has connected (packets
// written before DTLS is up are lost, and the greeting with them).
func (l *Leg) startSending() {
	l.sendOnce.Do(func() {
		l.sendEpoch = time.Now()
		if !l.goLeg(l.sendLoop) {
			return
		}
	})
}

func (l *Leg) stopSending() { l.stopOnce.Do(func() { close(l.stopSend) }) }

// sendLoop sends one PCMU packet per 20 ms tick of the monotonic clock,
// as the SIP leg does (playout.Pacer): timestamps run on through silence
// (RFC 3550 §5.1). With nothing playing it sends µ-law silence: the
// browser's jitter buffer and echo canceller expect a steady stream.
// Marker set on the first packet only: one talkspurt (RFC 3551 §4.1).
// The track fills in the negotiated SSRC and PT.
func (l *Leg) sendLoop() {
	var (
		pkt = rtp.Packet{Header: rtp.Header{
			Version:        2,
			SequenceNumber: uint16(rand.Uint32()), // random starts: RFC 3550 §5.1
			Marker:         true,
		}}
		ts0     = rand.Uint32()
		payload = make([]byte, 0, audio.FrameSamples)
		silence audio.Frame
		frame   audio.Frame
		pacer   = playout.NewPacer(l.sendEpoch)
		last    time.Time // when the previous packet went out
	)
	defer pacer.Stop()
	for {
		if !pacer.Wait(l.stopSend) {
			return
		}
		gen, have := l.out.Next(&frame)
		src := &silence
		if have {
			src = &frame
		}
		payload = audio.EncodeUlaw(payload[:0], src[:])
		pkt.Timestamp = ts0 + uint32(pacer.Tick()*audio.FrameSamples)
		pkt.Payload = payload
		// Pacing as the wire sees it (one talk spurt: every gap after the
		// first packet), on the monotonic clock, just before the write.
		now := time.Now()
		if !pkt.Marker {
			l.metrics.SendInterval(now.Sub(last))
		}
		last = now
		if have {
			if d, ok := l.out.Replied(gen, now); ok {
				l.metrics.DTMFReply(d)
			}
		}
		if err := l.track.WriteRTP(&pkt); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return
			}
			l.log.Debug("rtp send", "error", err)
		} else {
			l.pktsOut.Add(1)
			l.metrics.PacketOut()
		}
		pkt.Marker = false
		pkt.SequenceNumber++
		pacer.Next()
	}
}
