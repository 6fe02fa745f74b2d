package webrtcgw

import (
	"context"
	"errors"
	"fmt"
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

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
)

const (
	// sendQueueFrames is how far Play may run ahead of the wire (60 ms),
	// as on a SIP leg: barge-in stops a prompt at once.
	sendQueueFrames = 3
	// maxSendLag is how late a tick may be before the sender skips the
	// missed ticks instead of bursting; the timestamp jump tells the
	// browser's jitter buffer what happened.
	maxSendLag = 3 * audio.FrameDuration
)

// media is a leg's audio: the jitter buffer the handler reads, the paced
// sender Play feeds, and the counters for logs and the page.
type media struct {
	start time.Time // media clock zero: frame 0 of ReadAudio
	jb    *jitterBuffer

	sendQ     chan sendItem
	playGen   atomic.Uint64
	playSem   chan struct{}
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

// init readies the media state; the clock starts now.
func (m *media) init() {
	now := time.Now()
	m.start = now
	m.jb = newJitterBuffer(now)
	m.sendQ = make(chan sendItem, sendQueueFrames)
	m.playSem = make(chan struct{}, 1)
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
// SSRC cannot be told apart by the track (telephony.md §5).
func (l *Leg) recvLoop(tr *webrtc.TrackRemote, pts ptMap) {
	var (
		decoder dtmf.Decoder
		pcm     = make([]int16, 0, 1500)
	)
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
		switch pt := pkt.PayloadType; {
		case pts.pcmu[pt]:
			pcm = audio.DecodeUlaw(pcm[:0], pkt.Payload)
			l.addEnergy(pcm)
			l.jb.push(now, pkt.SSRC, pkt.Timestamp, pcm)
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

// sendItem is one frame queued by Play, or (flush != nil) a marker the
// sender closes once every frame queued before it has gone out.
type sendItem struct {
	gen   uint64
	frame audio.Frame
	flush chan struct{}
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
// as the SIP leg does: tick n is due at epoch+n·20ms with RTP timestamp
// ts0+n·160, so drift does not accumulate and timestamps run on through
// silence (RFC 3550 §5.1). With nothing playing it sends µ-law silence:
// the browser's jitter buffer and echo canceller expect a steady stream.
// Marker set on the first packet only: one talkspurt (RFC 3551 §4.1).
// The track fills in the negotiated SSRC and PT.
func (l *Leg) sendLoop() {
	var (
		pkt = rtp.Packet{Header: rtp.Header{
			Version:        2,
			SequenceNumber: uint16(rand.Uint32()),
			Marker:         true,
		}}
		ts0     = rand.Uint32()
		payload = make([]byte, 0, audio.FrameSamples)
		silence audio.Frame
		timer   = time.NewTimer(time.Hour)
		n       int64
	)
	defer timer.Stop()
	for {
		due := l.sendEpoch.Add(time.Duration(n) * audio.FrameDuration)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-l.stopSend:
				return
			}
		} else if -wait > maxSendLag {
			n = int64(time.Since(l.sendEpoch) / audio.FrameDuration)
		}
		frame := &silence
		if it := l.nextItem(); it != nil {
			frame = &it.frame
		}
		payload = audio.EncodeUlaw(payload[:0], frame[:])
		pkt.Timestamp = ts0 + uint32(n*audio.FrameSamples)
		pkt.Payload = payload
		if err := l.track.WriteRTP(&pkt); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return
			}
			l.log.Debug("rtp send", "error", err)
		} else {
			l.pktsOut.Add(1)
		}
		pkt.Marker = false
		pkt.SequenceNumber++
		n++
	}
}

// nextItem takes the next frame of the current Play without waiting,
// completing flush markers and dropping frames of aborted Plays.
func (l *Leg) nextItem() *sendItem {
	for {
		select {
		case q := <-l.sendQ:
			if q.flush != nil {
				close(q.flush)
				continue
			}
			if q.gen != l.playGen.Load() {
				continue
			}
			return &q
		default:
			return nil
		}
	}
}

// play implements Leg.Play: it pulls frames from src and queues them for
// the sender, which paces them.
func (l *Leg) play(ctx context.Context, ended <-chan struct{}, src telephony.FrameSource) error {
	select {
	case l.playSem <- struct{}{}:
		defer func() { <-l.playSem }()
	case <-ctx.Done():
		return ctx.Err()
	case <-ended:
		return telephony.ErrLegClosed
	}
	gen := l.playGen.Add(1)
	abort := func(err error) error {
		l.playGen.Add(1) // the sender drops what is still queued
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
			return abort(fmt.Errorf("webrtcgw: play: %w", err))
		}
		if err := l.enqueue(ctx, ended, it); err != nil {
			return abort(err)
		}
	}
	// Return when the last frame has gone out, so a hangup right after
	// Play does not clip the end of the prompt.
	flush := make(chan struct{})
	if err := l.enqueue(ctx, ended, sendItem{gen: gen, flush: flush}); err != nil {
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

func (l *Leg) enqueue(ctx context.Context, ended <-chan struct{}, it sendItem) error {
	select {
	case l.sendQ <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-ended:
		return telephony.ErrLegClosed
	}
}
