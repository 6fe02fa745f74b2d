// Package webrtcgw is the browser gateway: it terminates WebRTC calls
// from a web page with pion and turns each one into a telephony.Leg with
// the same contract as a SIP leg (telephony/sipgw). Media is PCMU only
// (plus RFC 4733 telephone-event for the on-screen keypad), so a browser
// leg can be bridged to a SIP leg without transcoding and the assistant
// hears the same 8 kHz audio from both.
//
// Signalling (signal.go): the page POSTs its SDP offer and gets the
// answer; a WebSocket per call carries notes to the page (subtitles,
// state, hangup), the page's hangup back, and trickled ICE candidates
// both ways. An offer is either complete (every candidate in it, and the
// answer waits for our gathering: curl and tests) or trickled (the answer
// comes at once and candidates follow on the WebSocket, RFC 8838: what a
// page does when STUN/TURN make gathering slow).
package webrtcgw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"hotline/telephony"
	"hotline/telephony/telemetry"
)

// Errors callers branch on.
var (
	// ErrBadOffer: the SDP offer is malformed or offers no PCMU audio.
	ErrBadOffer = errors.New("webrtcgw: unusable SDP offer")
	// ErrBusy: MaxCalls legs are up.
	ErrBusy = errors.New("webrtcgw: too many calls")
	// ErrDraining: the gateway takes no new calls (Drain), or no legs at
	// all (Shutdown).
	ErrDraining = errors.New("webrtcgw: draining")
)

// Config configures the gateway.
type Config struct {
	// ICEServers are STUN/TURN URLs given to every PeerConnection
	// ("stun:stun.example.com:3478"); empty for host candidates only.
	ICEServers []string
	// TURNUsername and TURNCredential are static long-term credentials
	// for the TURN URLs of ICEServers.
	TURNUsername, TURNCredential string
	// TURNSecret, when set, replaces them with ephemeral credentials
	// (TURN REST API, coturn use-auth-secret) valid for TURNCredentialTTL
	// (default 12 h), minted for every call and every page.
	TURNSecret        string
	TURNCredentialTTL time.Duration
	// NAT1To1IPs are public IPs announced as host candidates instead of
	// the local ones (a server behind 1:1 NAT).
	NAT1To1IPs []string
	// UDPPortMin/Max bound the ICE UDP ports (both 0: any port).
	UDPPortMin, UDPPortMax uint16
	// LoopbackOnly gathers 127.0.0.1 candidates only: tests and the
	// browser end-to-end test in a private network namespace.
	LoopbackOnly bool
	// MediaTimeout ends a leg (CauseMediaTimeout) when no RTP arrived
	// for this long, or ICE failed, or the connection did not come up
	// within it. Default 15 s.
	MediaTimeout time.Duration
	// MaxCalls limits live legs (0: unlimited); beyond it Answer and
	// Accept return ErrBusy.
	MaxCalls int
	// Metrics receives the gateway's metrics (calls by direction and
	// cause, RTP packets, send pacing, loss and jitter, DTMF and the
	// DTMF → reply latency) under the leg label "webrtc"; nil: none.
	Metrics *telemetry.Metrics
}

const defaultMediaTimeout = 15 * time.Second

func (c *Config) setDefaults() error {
	if c.MediaTimeout == 0 {
		c.MediaTimeout = defaultMediaTimeout
	}
	if c.TURNCredentialTTL == 0 {
		c.TURNCredentialTTL = defaultTURNTTL
	}
	switch {
	case c.MediaTimeout < 0:
		return errors.New("webrtcgw: MediaTimeout must be positive")
	case c.TURNCredentialTTL < 0:
		return errors.New("webrtcgw: TURNCredentialTTL must be positive")
	case c.MaxCalls < 0:
		return errors.New("webrtcgw: MaxCalls must not be negative")
	case (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMin > c.UDPPortMax:
		return fmt.Errorf("webrtcgw: UDP port range %d..%d: need both 0 or min <= max", c.UDPPortMin, c.UDPPortMax)
	}
	for _, ip := range c.NAT1To1IPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("webrtcgw: NAT1To1IPs: %q is not an IP address", ip)
		}
	}
	// A TURN URL without credentials fails every PeerConnection (pion's
	// and the browser's, W3C webrtc-pc §4.4.1.1): refuse it at start.
	if c.hasTURN() && c.TURNSecret == "" && (c.TURNUsername == "" || c.TURNCredential == "") {
		return errors.New("webrtcgw: TURN servers need TURNUsername and TURNCredential, or TURNSecret")
	}
	return nil
}

// Gateway answers browser calls. It holds one pion API (codecs,
// interceptors, ICE settings) shared by all its PeerConnections.
type Gateway struct {
	cfg     Config
	h       telephony.Handler
	log     *slog.Logger
	api     *webrtc.API
	metrics *telemetry.Metrics // nil: none
	rtpM    *telemetry.Leg     // metrics.Leg(legType)

	draining atomic.Bool
	closed   bool // Shutdown is cutting legs: Accept is refused too (mu)
	mu       sync.Mutex
	legs     map[string]*Leg
	wg       sync.WaitGroup // handlers and teardowns
}

// New builds a gateway whose answered calls go to h (nil: Answer is
// refused, Accept still works).
func New(cfg Config, h telephony.Handler, log *slog.Logger) (*Gateway, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	api, err := newAPI(cfg)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, h: h, log: log, api: api, legs: map[string]*Leg{},
		metrics: cfg.Metrics, rtpM: cfg.Metrics.Leg(legType),
	}
	return g, nil
}

// legType is the telephony.LegInfo.Type of our legs and their metrics
// label.
const legType = "webrtc"

// Payload types we offer. A browser's offer decides the real ones (Chrome
// uses 126 for telephone-event); pion answers with the offerer's PTs.
const (
	ptPCMU           = 0
	ptTelephoneEvent = 101
	mimeTelephoneEv  = "audio/telephone-event"
)

// newAPI builds the pion API: PCMU and telephone-event only (no Opus, so
// the browser must send G.711 and a SIP bridge needs no transcoding),
// default interceptors (NACK, RTCP reports), ICE from cfg.
func newAPI(cfg Config) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: ptPCMU},
		// Without telephone-event the browser's DTMF is not negotiated
		// (RTCDTMFSender.canInsertDTMF stays false).
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEv, ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: ptTelephoneEvent},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtcgw: register codec: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("webrtcgw: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	// ICE failing for MediaTimeout ends the call; keepalives every 2 s
	// keep NAT bindings open while the caller is silent.
	se.SetICETimeouts(min(5*time.Second, cfg.MediaTimeout), cfg.MediaTimeout, 2*time.Second)
	if cfg.UDPPortMax > 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("webrtcgw: UDP port range: %w", err)
		}
	}
	if len(cfg.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	if cfg.LoopbackOnly {
		// With 127.0.0.1 as the only address pion gathers nothing unless
		// told to include loopback (telephony.md §5).
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// Answer takes a browser's complete (non-trickle) SDP offer and returns
// the complete answer; the gateway's handler then serves the call in its
// own goroutine, as the SIP gateway does for an INVITE.
func (g *Gateway) Answer(ctx context.Context, offerSDP string, info telephony.LegInfo) (string, *Leg, error) {
	if g.h == nil {
		return "", nil, errors.New("webrtcgw: no handler for answered calls")
	}
	answer, leg, err := g.open(ctx, offerSDP, info, openMode{newCall: true})
	if err != nil {
		return "", nil, err
	}
	g.wg.Go(func() { telephony.Serve(leg.ctx, g.h, leg, leg.log) })
	return answer, leg, nil
}

// AnswerTrickle is Answer for a trickle ICE offer (RFC 8838): it returns
// the answer without waiting for our ICE gathering. Our candidates come
// from the leg's LocalCandidates, the browser's go to AddICECandidate
// (the events WebSocket does both).
func (g *Gateway) AnswerTrickle(ctx context.Context, offerSDP string, info telephony.LegInfo) (string, *Leg, error) {
	if g.h == nil {
		return "", nil, errors.New("webrtcgw: no handler for answered calls")
	}
	answer, leg, err := g.open(ctx, offerSDP, info, openMode{newCall: true, trickle: true})
	if err != nil {
		return "", nil, err
	}
	g.wg.Go(func() { telephony.Serve(leg.ctx, g.h, leg, leg.log) })
	return answer, leg, nil
}

// Accept is Answer without the handler: the returned leg belongs to the
// caller (the consultant console bridges it to a waiting caller), who
// must end it with Hangup. It joins a call already in progress, so a
// draining gateway still accepts (the live calls may finish, with their
// consultants); only Shutdown refuses.
func (g *Gateway) Accept(ctx context.Context, offerSDP string, info telephony.LegInfo) (string, *Leg, error) {
	return g.open(ctx, offerSDP, info, openMode{})
}

// AcceptTrickle is Accept for a trickle ICE offer (see AnswerTrickle).
func (g *Gateway) AcceptTrickle(ctx context.Context, offerSDP string, info telephony.LegInfo) (string, *Leg, error) {
	return g.open(ctx, offerSDP, info, openMode{trickle: true})
}

// openMode: newCall (Answer) is refused while draining; trickle answers
// without waiting for ICE gathering.
type openMode struct{ newCall, trickle bool }

// open admits a new leg, negotiates and starts it.
func (g *Gateway) open(ctx context.Context, offerSDP string, info telephony.LegInfo, m openMode) (string, *Leg, error) {
	if err := checkOffer(offerSDP); err != nil {
		return "", nil, err
	}
	if info.ID == "" {
		info.ID = newID()
	}
	info.Type = legType
	if info.Direction == "" {
		info.Direction = telephony.Inbound
	}
	if info.From == "" {
		info.From = "browser"
	}
	info.Codec = "PCMU"
	if info.StartedAt.IsZero() {
		info.StartedAt = time.Now()
	}
	if err := g.admit(info.ID, m.newCall); err != nil {
		return "", nil, err
	}
	// Counted from the offer, like a SIP call from its INVITE; the leg's
	// teardown counts the end.
	g.metrics.CallStarted(legType, string(info.Direction))
	leg, answer, err := newLeg(ctx, g, info, offerSDP, m.trickle)
	if err != nil {
		g.release(info.ID, nil)
		g.metrics.CallEnded(legType, string(info.Direction), string(telephony.CauseFailed))
		return "", nil, err
	}
	g.mu.Lock()
	if cur, ok := g.legs[info.ID]; ok && cur == nil {
		g.legs[info.ID] = leg // else it already ended (and was forgotten)
	}
	g.mu.Unlock()
	return answer, leg, nil
}

// admit reserves a slot for a new leg (newCall: a new call, refused
// while draining).
func (g *Gateway) admit(id string, newCall bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.closed, newCall && g.draining.Load():
		return ErrDraining
	case g.cfg.MaxCalls > 0 && len(g.legs) >= g.cfg.MaxCalls:
		return ErrBusy
	case g.legs[id] != nil:
		return fmt.Errorf("webrtcgw: leg id %q in use", id)
	}
	g.legs[id] = nil // reserved while negotiating
	return nil
}

// release forgets a leg (nil: a reservation).
func (g *Gateway) release(id string, l *Leg) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.legs[id]; ok && cur == l {
		delete(g.legs, id)
	}
}

// Leg returns a live leg by id.
func (g *Gateway) Leg(id string) (*Leg, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.legs[id]
	return l, l != nil
}

// ActiveCalls is the number of legs from offer to the end of teardown.
func (g *Gateway) ActiveCalls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.legs)
}

// Drain stops taking new calls (Answer); live ones go on, and Accept
// still adds legs to them.
func (g *Gateway) Drain() {
	if g.draining.CompareAndSwap(false, true) {
		g.log.Info("webrtc draining: new calls refused", "active_calls", g.ActiveCalls())
	}
}

// Draining reports whether Drain was called.
func (g *Gateway) Draining() bool { return g.draining.Load() }

// Shutdown drains, lets live legs finish until ctx ends, then hangs up
// the rest (CauseShutdown) and waits for every handler and teardown.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.Drain()
	for g.ActiveCalls() > 0 && ctx.Err() == nil {
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	g.mu.Lock()
	g.closed = true
	live := make([]*Leg, 0, len(g.legs))
	for _, l := range g.legs {
		if l != nil {
			live = append(live, l)
		}
	}
	g.mu.Unlock()
	for _, l := range live {
		l.end(telephony.CauseShutdown)
	}
	g.wg.Wait()
	if len(live) > 0 {
		return fmt.Errorf("webrtcgw: %d calls cut at shutdown: %w", len(live), context.Cause(ctx))
	}
	return nil
}

func newID() string {
	var b [16]byte // the id is the key to the call's events (signal.go)
	_, _ = rand.Read(b[:])
	return "webrtc-" + hex.EncodeToString(b[:])
}
