package webrtcgw

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
)

const (
	// eventBuffer is how many events a slow handler may leave unread
	// before digits are dropped; one slot is always kept for the hangup.
	eventBuffer = 64
	// noteBuffer is how many notes wait for a slow (or absent) page; the
	// oldest are dropped beyond it.
	noteBuffer = 32
	// candidateBuffer is how many of our trickled ICE candidates wait for
	// the page's WebSocket: one per interface and type (host, srflx,
	// relay), so a handful; beyond it they are dropped (and logged).
	candidateBuffer = 64
	// watchdogEvery is how often the media watchdog looks at the clock
	// and reports the received audio level to the page.
	watchdogEvery = time.Second
)

// Leg is one browser call: a PeerConnection with one PCMU audio track
// each way. It implements telephony.Leg like a SIP leg, and
// telephony.Notifier for the page's screen. It owns its goroutines; all
// of them end in teardown, which runs once, whoever ends the call.
type Leg struct {
	g     *Gateway
	log   *slog.Logger
	info  telephony.LegInfo
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP

	// ctx is cancelled, with a telephony.EndedError, as soon as the leg
	// starts ending: the handler's context.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// ending is closed when teardown starts, done when it has finished.
	ending  chan struct{}
	done    chan struct{}
	endOnce sync.Once

	mu      sync.Mutex
	cause   telephony.Cause
	closing bool           // teardown started: no new goroutines
	remote  string         // selected ICE candidate's address
	wg      sync.WaitGroup // the leg's goroutines (guarded by mu for Add)

	evMu    sync.Mutex
	events  chan telephony.Event
	dropped int

	noteMu      sync.Mutex
	notes       chan telephony.Note
	notesClosed bool
	notesDrop   int
	notesClaim  atomic.Bool // a page's WebSocket reads Notes (signal.go)

	// cands carries our ICE candidates to the page when trickling,
	// ending with an empty one (end-of-candidates); nil otherwise.
	cands chan webrtc.ICECandidateInit

	media
}

var (
	_ telephony.Leg      = (*Leg)(nil)
	_ telephony.Notifier = (*Leg)(nil)
)

// newLeg negotiates a PeerConnection for offer and returns the leg with
// its complete answer. The leg's media starts when ICE connects.
func newLeg(ctx context.Context, g *Gateway, info telephony.LegInfo, offer string, trickle bool) (*Leg, string, error) {
	pc, err := g.api.NewPeerConnection(webrtc.Configuration{ICEServers: g.iceServers(time.Now())})
	if err != nil {
		return nil, "", fmt.Errorf("webrtcgw: new peer connection: %w", err)
	}
	lctx, cancel := context.WithCancelCause(context.Background())
	l := &Leg{
		g:      g,
		log:    g.log.With("call_id", info.ID, "leg", legType),
		info:   info,
		pc:     pc,
		ctx:    lctx,
		cancel: cancel,
		ending: make(chan struct{}),
		done:   make(chan struct{}),
		events: make(chan telephony.Event, eventBuffer),
		notes:  make(chan telephony.Note, noteBuffer),
	}
	l.media.init(g.rtpM)
	if trickle {
		l.cands = make(chan webrtc.ICECandidateInit, candidateBuffer)
	}
	answer, err := l.negotiate(ctx, offer)
	if err != nil {
		cancel(err)
		l.mu.Lock()
		l.closing = true
		l.mu.Unlock()
		// The leg was never started: pion must not call back into it
		// while it closes (its state handlers run on their own
		// goroutines, after this returns).
		pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) {})
		pc.OnTrack(func(*webrtc.TrackRemote, *webrtc.RTPReceiver) {})
		pc.OnICECandidate(func(*webrtc.ICECandidate) {})
		if cerr := pc.GracefulClose(); cerr != nil {
			l.log.Debug("peer connection close", "error", cerr)
		}
		l.wg.Wait()
		return nil, "", err
	}
	l.goLeg(l.watchdog)
	return l, answer, nil
}

// negotiate applies the offer, adds our track and, unless trickling,
// waits for ICE gathering so that the answer carries every candidate.
// When trickling, the answer carries what was gathered so far (usually
// nothing) and the candidates follow through cands.
func (l *Leg) negotiate(ctx context.Context, offer string) (string, error) {
	l.pc.OnTrack(l.onTrack)
	l.pc.OnConnectionStateChange(l.onState)
	if l.cands != nil {
		// Set before SetLocalDescription, which starts the gathering.
		l.pc.OnICECandidate(l.onCandidate)
	}
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "audio", "hotline")
	if err != nil {
		return "", fmt.Errorf("webrtcgw: track: %w", err)
	}
	sender, err := l.pc.AddTrack(track)
	if err != nil {
		return "", fmt.Errorf("webrtcgw: add track: %w", err)
	}
	l.track = track
	answer, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("webrtcgw: set local description: %w", err)
	}
	if l.cands == nil {
		select {
		case <-gathered:
		case <-ctx.Done():
			return "", fmt.Errorf("webrtcgw: ICE gathering: %w", context.Cause(ctx))
		}
	}
	// RTCP for our stream (receiver reports) must be read, or the
	// interceptors stall; a BYE there ends the call too.
	l.goLeg(func() { l.readRTCP(sender.ReadRTCP) })
	return l.pc.LocalDescription().SDP, nil
}

// onCandidate queues one of our gathered ICE candidates for the page
// (nil: gathering is complete, sent as the end-of-candidates indication,
// an empty candidate, RFC 8838 §8.2). It never blocks pion's gatherer.
func (l *Leg) onCandidate(c *webrtc.ICECandidate) {
	var init webrtc.ICECandidateInit
	if c != nil {
		init = c.ToJSON()
	}
	select {
	case l.cands <- init:
	default:
		l.log.Warn("trickle ICE: candidate dropped, the page is not reading them")
	}
}

// LocalCandidates delivers our ICE candidates of a trickle leg
// (AnswerTrickle, AcceptTrickle) as the browser's RTCIceCandidateInit,
// the last one empty (end of candidates); nil for a leg whose answer was
// complete. It is never closed: stop reading at Done. One consumer.
func (l *Leg) LocalCandidates() <-chan webrtc.ICECandidateInit { return l.cands }

// AddICECandidate adds a candidate trickled by the browser; an empty
// Candidate is its end-of-candidates indication (RFC 8838 §8.2).
func (l *Leg) AddICECandidate(c webrtc.ICECandidateInit) error {
	select {
	case <-l.ending:
		return telephony.ErrLegClosed
	default:
	}
	if err := l.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("webrtcgw: remote candidate: %w", err)
	}
	return nil
}

// goLeg runs f as one of the leg's goroutines, unless teardown started.
func (l *Leg) goLeg(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	l.wg.Go(f)
	return true
}

// onState follows the connection: media starts when it connects, a
// failed ICE (no consent for MediaTimeout) ends the call.
func (l *Leg) onState(s webrtc.PeerConnectionState) {
	l.log.Debug("webrtc state", "state", s.String())
	switch s {
	case webrtc.PeerConnectionStateConnected:
		if r := l.selectedRemote(); r != "" {
			l.mu.Lock()
			l.remote = r
			l.mu.Unlock()
		}
		l.startSending()
		l.Notify(telephony.Note{Kind: telephony.NoteState, Data: map[string]string{"state": "connected"}})
	case webrtc.PeerConnectionStateDisconnected:
		l.Notify(telephony.Note{Kind: telephony.NoteState, Data: map[string]string{"state": "reconnecting"}})
	case webrtc.PeerConnectionStateFailed:
		l.log.Info("ice failed")
		l.end(telephony.CauseMediaTimeout)
	case webrtc.PeerConnectionStateClosed:
		// Not by us (teardown has already ended the leg then, and end is
		// a no-op): pion closes the connection when the browser's DTLS
		// close_notify arrives (RFC 5246 §7.2.1), i.e. on pc.close().
		l.end(telephony.CauseCallerHangup)
	}
}

// selectedRemote is the remote address of the selected ICE pair.
func (l *Leg) selectedRemote() string {
	for _, s := range l.pc.GetSenders() {
		if t := s.Transport(); t != nil {
			if pair, err := t.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
				return fmt.Sprintf("%s:%d", pair.Remote.Address, pair.Remote.Port)
			}
		}
	}
	return ""
}

// Info implements telephony.Leg.
func (l *Leg) Info() telephony.LegInfo {
	info := l.info
	l.mu.Lock()
	info.Remote = l.remote
	l.mu.Unlock()
	return info
}

// ID is the leg's id (Info().ID).
func (l *Leg) ID() string { return l.info.ID }

// Done implements telephony.Leg.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Cause implements telephony.Leg: set as soon as the leg starts ending.
func (l *Leg) Cause() telephony.Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

// Events implements telephony.Leg.
func (l *Leg) Events() <-chan telephony.Event { return l.events }

// ReadAudio implements telephony.Leg.
func (l *Leg) ReadAudio(ctx context.Context, f *audio.Frame) error {
	select {
	case <-l.ending:
		return telephony.ErrLegClosed
	default:
	}
	return l.jb.Read(ctx, l.ending, f)
}

// Play implements telephony.Leg.
func (l *Leg) Play(ctx context.Context, src telephony.FrameSource) error {
	select {
	case <-l.ending:
		return telephony.ErrLegClosed
	default:
	}
	return l.out.Play(ctx, l.ending, src)
}

// Transfer implements telephony.Leg: a browser leg has no transfer
// mechanism of its own; transfers of browser callers go through the
// consultant queue above telephony.
func (l *Leg) Transfer(context.Context, telephony.TransferRequest) error {
	return telephony.ErrNotSupported
}

// Hangup implements telephony.Leg: it ends the leg and waits for the
// teardown or ctx.
func (l *Leg) Hangup(ctx context.Context, cause telephony.Cause) error {
	if cause == telephony.CauseNone {
		cause = telephony.CauseBotHangup
	}
	l.end(cause)
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Notify implements telephony.Notifier: the note goes to the page's
// WebSocket (Notes). It never blocks: when the page is behind, the
// oldest note is dropped.
func (l *Leg) Notify(n telephony.Note) {
	l.noteMu.Lock()
	defer l.noteMu.Unlock()
	if l.notesClosed {
		return
	}
	for {
		select {
		case l.notes <- n:
			return
		default:
		}
		select {
		case <-l.notes:
			l.notesDrop++
		default:
		}
	}
}

// Notes delivers the leg's notes for the page, ending with the hangup
// note; it is closed when the leg is down. One consumer.
func (l *Leg) Notes() <-chan telephony.Note { return l.notes }

// end starts the teardown once; the first cause wins. It never blocks,
// so pion callbacks and the leg's own goroutines may call it.
func (l *Leg) end(cause telephony.Cause) {
	l.endOnce.Do(func() { l.g.wg.Go(func() { l.teardown(cause) }) })
}

// teardown ends the leg in a fixed order: stop accepting input (handler
// ctx, Play, ReadAudio) → close the PeerConnection (its goroutines end,
// so do our readers) → stop the sender, wait for every goroutine →
// forget the leg → hangup event, close Events → hangup note, close
// Notes → Done.
func (l *Leg) teardown(cause telephony.Cause) {
	l.mu.Lock()
	l.cause = cause
	l.closing = true
	close(l.ending)
	l.mu.Unlock()
	l.cancel(telephony.EndedError(cause))

	if cause != telephony.CauseCallerHangup {
		l.sayGoodbye()
	}
	if err := l.pc.GracefulClose(); err != nil {
		l.log.Debug("peer connection close", "error", err)
	}
	l.stopSending()
	l.wg.Wait()
	l.g.forget(l)
	l.g.metrics.CallEnded(legType, string(l.info.Direction), string(cause))

	st := l.Stats()
	attrs := []any{"cause", cause, "duration", time.Since(l.info.StartedAt).Round(time.Millisecond),
		"rtp_in", st.PacketsIn, "rtp_out", st.PacketsOut, "rtp_ignored", st.Ignored,
		"rx_rms", int(st.RxRMS), "digits", st.Digits}
	l.evMu.Lock()
	if l.dropped > 0 {
		attrs = append(attrs, "digits_dropped", l.dropped)
	}
	l.evMu.Unlock()
	l.log.Info("call ended", attrs...)

	l.evMu.Lock()
	l.events <- telephony.Event{Kind: telephony.EventHangup, Cause: cause, At: time.Now()}
	close(l.events)
	l.evMu.Unlock()

	l.Notify(telephony.Note{Kind: telephony.NoteHangup, Data: map[string]string{"cause": string(cause)}})
	l.noteMu.Lock()
	l.notesClosed = true
	close(l.notes)
	l.noteMu.Unlock()
	close(l.done)
}

// digit delivers one key press unless the leg is ending.
func (l *Leg) digit(ev dtmf.Event) {
	l.evMu.Lock()
	defer l.evMu.Unlock()
	select {
	case <-l.ending:
		return
	default:
	}
	if len(l.events) >= cap(l.events)-1 {
		l.dropped++
		return
	}
	l.digits.Add(1)
	now := time.Now()
	if l.metrics != nil {
		// The send loop times the reply. Noted before the handler can see
		// the key: a reply it starts at once must be of a later Play
		// generation than the press (playout.Queue).
		l.out.KeyPressed(now)
	}
	l.events <- telephony.Event{Kind: telephony.EventDTMF, Digit: ev.Digit, Source: ev.Source.String(), At: now}
	l.g.metrics.Digit(ev.Source.String())
	// The digit itself is not logged: callers key in case numbers and
	// dates of birth.
	l.log.Debug("dtmf", "source", ev.Source.String())
}

// watchdog ends the leg when no RTP arrived for MediaTimeout (before the
// first packet too: a browser that never connects), and reports the
// received audio level to the page once a second.
func (l *Leg) watchdog() {
	t := time.NewTicker(watchdogEvery)
	defer t.Stop()
	for {
		select {
		case <-l.ending:
			return
		case now := <-t.C:
			if quiet := now.Sub(l.lastRTP()); quiet >= l.g.cfg.MediaTimeout {
				l.log.Info("media timeout", "after", quiet.Round(time.Millisecond), "first_packet_seen", l.pktsIn.Load() > 0)
				l.end(telephony.CauseMediaTimeout)
				return
			}
			if l.pktsIn.Load() > 0 {
				st := l.Stats()
				l.Notify(telephony.Note{Kind: NoteAudio, Data: map[string]string{
					"rx_rms":      fmt.Sprintf("%.0f", st.RxRMS),
					"rx_last_rms": fmt.Sprintf("%.0f", st.RxLastRMS),
					"rx_packets":  fmt.Sprint(st.PacketsIn),
				}})
			}
		}
	}
}

// NoteAudio is the kind of the once-a-second note with what the server
// hears from the browser: Data "rx_rms" (RMS of all audio received so
// far, 16-bit scale), "rx_last_rms" (of the last second), "rx_packets".
const NoteAudio = "audio"

// onGoodbye ends the leg when the browser says it stopped sending (RTCP
// BYE, RFC 3550 §6.6: Chrome sends one when the page closes its
// PeerConnection).
func (l *Leg) onGoodbye() {
	l.log.Debug("rtcp bye")
	l.end(telephony.CauseCallerHangup)
}

// sayGoodbye tells the browser we stopped sending (RTCP BYE, RFC 3550
// §6.6), so its side ends even if the page's WebSocket is gone.
func (l *Leg) sayGoodbye() {
	if l.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		return
	}
	var ssrcs []uint32
	for _, s := range l.pc.GetSenders() {
		for _, e := range s.GetParameters().Encodings {
			ssrcs = append(ssrcs, uint32(e.SSRC))
		}
	}
	if len(ssrcs) == 0 {
		return
	}
	if err := l.pc.WriteRTCP([]rtcp.Packet{&rtcp.Goodbye{Sources: ssrcs}}); err != nil {
		l.log.Debug("rtcp bye", "error", err)
	}
}

// forget drops an ended leg from the gateway.
func (g *Gateway) forget(l *Leg) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.legs[l.info.ID]; ok && (cur == l || cur == nil) {
		delete(g.legs, l.info.ID)
	}
}
