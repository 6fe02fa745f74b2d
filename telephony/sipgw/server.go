// Package sipgw is the SIP gateway: it answers calls from a SIP trunk or
// PBX (and places outbound ones) and turns each into a telephony.Leg.
//
// Signalling is github.com/emiago/sipgo (transactions, dialogs, digest
// auth); media is our own thin layer on pion/rtp with SDP built and parsed
// by pion/sdp: G.711 (PCMU preferred, PCMA), telephone-event at whatever
// payload type the offer uses, symmetric-RTP latching, a timestamp-ordered
// jitter buffer, 20 ms pacing on the monotonic clock, a media watchdog, and
// DTMF from RFC 4733, SIP INFO and in-band tones merged into one stream.
//
// Files by concern: server.go (lifecycle, registry), invite.go (inbound
// INVITE), indialog.go (ACK, BYE, INFO, re-INVITE, UPDATE, OPTIONS),
// dial.go (outbound UAC), leg.go (the call and its teardown), sdp.go,
// media*.go, transfer.go (REFER/bridge hook).
package sipgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
	"hotline/telephony/telemetry"
)

// legType is the telephony.LegInfo.Type of our legs and their metrics label.
const legType = "sip"

// shutdownHangupWait bounds how long Serve waits for the calls it hung
// up at shutdown to finish their teardown.
const shutdownHangupWait = 10 * time.Second

// Server is a SIP user agent that answers and places calls.
type Server struct {
	cfg     Config
	handler telephony.Handler
	log     *slog.Logger
	ports   *portPool
	metrics *telemetry.Metrics // nil: none
	rtpM    *telemetry.Leg     // metrics.Leg(legType)

	ua  *sipgo.UserAgent
	sip *sipgo.Server
	cli *sipgo.Client

	onEnd func(telephony.LegInfo, telephony.Cause)

	// Set by Serve before ready is closed, read-only afterwards.
	ready    chan struct{}
	addr     netip.AddrPort
	dialogUA map[string]*sipgo.DialogUA // by transport: "UDP", "TCP"

	serving  atomic.Bool
	stopped  atomic.Bool
	draining atomic.Bool

	mu      sync.Mutex
	calls   map[string]*call   // by dialog key, from 200 OK to teardown
	live    map[*call]struct{} // every call from INVITE to the end of teardown
	changed chan struct{}      // closed and replaced whenever a call ends
}

// New validates cfg and prepares a Server; Serve starts it.
func New(cfg Config, h telephony.Handler, logger *slog.Logger) (*Server, error) {
	if h == nil {
		return nil, errors.New("sipgw: nil handler")
	}
	if logger == nil {
		return nil, errors.New("sipgw: nil logger")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	listen, err := netip.ParseAddrPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sipgw: listen %q: %w", cfg.Listen, err)
	}
	log := logger.With("component", "sipgw")
	sipLog := log.With("layer", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentHostname(cfg.ContactHost),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
	)
	if err != nil {
		return nil, fmt.Errorf("sipgw: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sipgw: sip server: %w", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(cfg.ContactHost), sipgo.WithClientLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sipgw: sip client: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		handler: h,
		log:     log,
		ports:   newPortPool(listen.Addr(), cfg.RTPPortMin, cfg.RTPPortMax),
		metrics: cfg.Metrics,
		rtpM:    cfg.Metrics.Leg(legType),
		ua:      ua,
		sip:     srv,
		cli:     cli,
		ready:   make(chan struct{}),
		calls:   make(map[string]*call),
		live:    make(map[*call]struct{}),
		changed: make(chan struct{}),
	}
	s.routes()
	return s, nil
}

// OnCallEnd registers f to be told how every call ended, including calls
// that never reached the handler (cancelled while ringing, no ACK). Call
// it before Serve; f must not block.
func (s *Server) OnCallEnd(f func(info telephony.LegInfo, cause telephony.Cause)) {
	s.onEnd = f
}

// Ready is closed once Serve listens; Addr is valid from then on.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound SIP address (UDP and TCP share the port).
func (s *Server) Addr() netip.AddrPort {
	select {
	case <-s.ready:
		return s.addr
	default:
		return netip.AddrPort{}
	}
}

// Draining reports whether the server refuses new calls (for /readyz).
func (s *Server) Draining() bool { return s.draining.Load() }

// ActiveCalls is the number of calls from INVITE to the end of teardown.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Drain stops taking new calls: INVITEs and OPTIONS probes get 503 with
// Retry-After, so a proxy (Kamailio's dispatcher) routes around us, while
// live calls continue. Serve drains by itself when its ctx ends.
func (s *Server) Drain() {
	if s.draining.CompareAndSwap(false, true) {
		s.log.Info("draining: new calls refused", "active_calls", s.ActiveCalls())
	}
}

// Serve listens on UDP and TCP and handles calls until ctx ends. Then it
// drains: new calls are refused, live calls get DrainTimeout to finish,
// the rest are hung up with CauseShutdown. It returns nil after a clean
// stop, or the listener error that stopped it.
func (s *Server) Serve(ctx context.Context) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("sipgw: Serve called twice")
	}
	defer s.stopped.Store(true)
	udp, tcp, err := listenPair(ctx, s.cfg.Listen)
	if err != nil {
		return err
	}
	bound := udp.LocalAddr().(*net.UDPAddr).AddrPort()
	s.addr = netip.AddrPortFrom(bound.Addr().Unmap(), bound.Port())
	s.dialogUA = map[string]*sipgo.DialogUA{
		"UDP": {Client: s.cli, ContactHDR: s.contact("")},
		"TCP": {Client: s.cli, ContactHDR: s.contact("tcp")},
	}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errc <- s.sip.ServeUDP(udp) }()
	go func() { defer wg.Done(); errc <- s.sip.ServeTCP(tcp) }()
	if s.cfg.Recording.Dir != "" {
		janitorCtx, stopJanitor := context.WithCancel(ctx)
		defer stopJanitor()
		wg.Add(1)
		go func() { defer wg.Done(); s.pruneRecordings(janitorCtx) }()
	}
	close(s.ready)
	s.log.Info("sip listening", "addr", s.addr.String(), "contact", s.cfg.ContactHost,
		"rtp_ports", fmt.Sprintf("%d-%d", s.cfg.RTPPortMin, s.cfg.RTPPortMax))

	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			serveErr = fmt.Errorf("sipgw: listener: %w", err)
		}
	}
	s.shutdown()
	_ = udp.Close()
	_ = tcp.Close()
	if err := s.ua.Close(); err != nil {
		s.log.Debug("sip user agent close", "error", err)
	}
	wg.Wait()
	s.log.Info("sip stopped")
	return serveErr
}

// shutdown drains, waits for live calls, then hangs up the rest.
func (s *Server) shutdown() {
	s.Drain()
	drainCtx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	if s.waitIdle(drainCtx) == nil {
		return
	}
	s.mu.Lock()
	rest := make([]*call, 0, len(s.live))
	for c := range s.live {
		rest = append(rest, c)
	}
	s.mu.Unlock()
	s.log.Warn("drain timeout: hanging up live calls", "calls", len(rest))
	for _, c := range rest {
		c.end(telephony.CauseShutdown)
	}
	hangupCtx, cancel2 := context.WithTimeout(context.Background(), shutdownHangupWait)
	defer cancel2()
	if err := s.waitIdle(hangupCtx); err != nil {
		s.log.Error("calls did not finish after shutdown hangup", "calls", s.ActiveCalls())
	}
}

// waitIdle returns nil once no call is live, or ctx's error.
func (s *Server) waitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, ch := len(s.live), s.changed
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// admit registers a new call unless the server is draining or full.
func (s *Server) admit(c *call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() || s.stopped.Load() {
		return ErrDraining
	}
	if s.cfg.MaxCalls > 0 && len(s.live) >= s.cfg.MaxCalls {
		return ErrAtCapacity
	}
	s.live[c] = struct{}{}
	s.metrics.CallStarted(legType, string(c.info.Direction))
	return nil
}

// register makes an answered call reachable by in-dialog requests.
func (s *Server) register(c *call, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.key = key
	s.calls[key] = c
}

// lookup finds the call an in-dialog request belongs to. Our tag is in
// To and theirs in From, whichever side sent the INVITE.
func (s *Server) lookup(req *sip.Request) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// forget removes a call from the registry (teardown) and counts how it
// ended.
func (s *Server) forget(c *call, cause telephony.Cause) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.key != "" && s.calls[c.key] == c {
		delete(s.calls, c.key)
	}
	if _, ok := s.live[c]; ok {
		delete(s.live, c)
		s.metrics.CallEnded(legType, string(c.info.Direction), string(cause))
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// recordEnd tells the OnCallEnd hook how a call ended.
func (s *Server) recordEnd(info telephony.LegInfo, cause telephony.Cause) {
	if s.onEnd != nil {
		s.onEnd(info, cause)
	}
}

// contact is our Contact header for a transport ("" for UDP).
func (s *Server) contact(transport string) sip.ContactHeader {
	h := sip.ContactHeader{Address: sip.Uri{
		Scheme: "sip", User: s.cfg.UserAgent, Host: s.cfg.ContactHost, Port: int(s.addr.Port()),
	}}
	if transport != "" {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", transport)
	}
	return h
}

// dialogUAFor picks the dialog UA (and so the Contact) for a transport.
func (s *Server) dialogUAFor(transport string) *sipgo.DialogUA {
	if ua, ok := s.dialogUA[sip.NetworkToUpper(transport)]; ok {
		return ua
	}
	return s.dialogUA["UDP"]
}

// serverHeader identifies us in responses (RFC 3261 §20.35).
func (s *Server) serverHeader() sip.Header { return sip.NewHeader("Server", s.cfg.UserAgent) }

// retryAfter tells a refused caller when to try again (RFC 3261 §20.33).
func (s *Server) retryAfter() sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
}

// listenPair binds UDP and TCP on the same port; with port 0 it retries
// until the kernel's UDP pick is free on TCP too.
func listenPair(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	var lc net.ListenConfig
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("sipgw: listen %q: %w", addr, err)
	}
	var lastErr error
	for range 20 {
		udp, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sipgw: listen udp %s: %w", addr, err)
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := lc.Listen(ctx, "tcp", netip.AddrPortFrom(ap.Addr(), uint16(port)).String())
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		lastErr = err
		if ap.Port() != 0 {
			break
		}
	}
	return nil, nil, fmt.Errorf("sipgw: listen tcp %s: %w", addr, lastErr)
}
