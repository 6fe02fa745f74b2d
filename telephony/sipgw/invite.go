package sipgw

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
)

const contentTypeSDP = "application/sdp"

// errUnsupportedBody: an INVITE body that is not SDP (415, RFC 3261 §21.4.13).
var errUnsupportedBody = errors.New("sipgw: INVITE body is not application/sdp")

// onInvite handles an INVITE outside a dialog: a new inbound call. It runs
// on sipgo's goroutine for the request and stays there until the call has
// ended, because sipgo terminates the transaction when the handler returns.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	if s.draining.Load() {
		s.reply(tx, req, 503, "Service Unavailable", s.retryAfter())
		return
	}
	p, err := offerFrom(req)
	if err != nil {
		s.rejectOffer(tx, req, err)
		return
	}
	info := telephony.LegInfo{
		ID:        newID(),
		Type:      legType,
		Direction: telephony.Inbound,
		To:        req.Recipient.User,
		StartedAt: time.Now(),
	}
	if from := req.From(); from != nil {
		info.From = from.Address.User
	}
	if id := req.CallID(); id != nil {
		info.CallID = id.Value()
	}
	log := s.log.With("call_id", info.ID, "sip_call_id", info.CallID, "direction", string(info.Direction),
		"from", mask(info.From), "to", mask(info.To), "transport", req.Transport())
	c := newCall(s, info, log)
	dlg, err := s.dialogUAFor(req.Transport()).ReadInvite(req, tx)
	if err != nil {
		log.Warn("bad INVITE", "error", err)
		s.reply(tx, req, 400, "Bad Request")
		return
	}
	c.uas, c.inviteTx = dlg, tx
	// Everything the teardown touches is set before the call is admitted:
	// from then on a shutdown may end it at any moment.
	if c.media, err = openMedia(s.ports, s.mediaConfig(c), log); err != nil {
		log.Error("no media for call", "error", err)
		s.reply(tx, req, 503, "Service Unavailable", s.retryAfter())
		return
	}
	if err := s.admit(c); err != nil {
		c.media.close()
		log.Warn("call refused", "reason", err)
		s.reply(tx, req, 503, "Service Unavailable", s.retryAfter())
		return
	}
	log.Info("incoming call", "codec", p.Codec.Name, "dtmf_pt", dtmfPTAttr(p))
	sent := s.answer(c, p)
	<-c.done
	if sent != nil {
		<-sent // sipgo's 200 retransmission loop ends with the dialog or transaction
	}
}

// answer rings (if configured), sends the 200 OK and waits for the ACK,
// then runs the handler. It returns a channel closed when the goroutine
// sending (and retransmitting) the 200 has finished, if it was started.
func (s *Server) answer(c *call, p mediaParams) <-chan struct{} {
	dlg := c.uas
	if err := dlg.Respond(100, "Trying", nil); err != nil {
		c.end(endCause(dlg.Context()))
		return nil
	}
	if s.cfg.RingTime > 0 {
		if err := dlg.Respond(180, "Ringing", nil, s.serverHeader()); err != nil {
			c.end(endCause(dlg.Context()))
			return nil
		}
		t := time.NewTimer(s.cfg.RingTime)
		defer t.Stop()
		select {
		case <-t.C:
		case <-dlg.Context().Done(): // CANCEL
			c.end(endCause(dlg.Context()))
			return nil
		case <-c.ending:
			return nil
		}
	}
	local := localMedia{Addr: s.contactAddr(), Port: c.media.port, SessionID: rand.Uint64() >> 1, Version: 1}
	answer, err := buildAnswer(local, p)
	if err != nil {
		c.log.Error("build answer", "error", err)
		c.end(telephony.CauseFailed)
		return nil
	}
	acked := make(chan struct{})
	var ackOnce sync.Once
	dlg.OnState(func(st sip.DialogState) {
		if st == sip.DialogStateConfirmed {
			ackOnce.Do(func() { close(acked) })
		}
	})
	c.mu.Lock()
	select {
	case <-c.ending: // hung up (shutdown) while ringing: teardown rejects the INVITE
		c.mu.Unlock()
		return nil
	default:
	}
	c.answered, c.local, c.lastSDP = true, local, answer
	c.mu.Unlock()
	s.register(c, dlg.ID)
	s.startRecording(c)
	c.media.run(p)
	s.metrics.SIPResponse(sip.INVITE.String(), 200)
	sent := make(chan struct{})
	var sendErr error
	go func() {
		defer close(sent)
		sendErr = dlg.RespondSDP(answer) // returns once ACKed, or on failure
	}()

	if ok, cause := s.waitAck(c, acked, sent, &sendErr); !ok {
		c.end(cause) // no-op if the call is already ending
		return sent
	}
	c.log.Info("call answered", "rtp_port", c.media.port, "remote_rtp", c.media.remoteAddr().String())
	telephony.Serve(c.ctx, s.handler, c, c.log)
	return sent
}

// waitAck waits for the ACK to our 200 OK. It reports whether it came,
// and if not, why the call must end.
func (s *Server) waitAck(c *call, acked, sent <-chan struct{}, sendErr *error) (bool, telephony.Cause) {
	ackTimer := time.NewTimer(s.cfg.AckTimeout)
	defer ackTimer.Stop()
	for {
		select {
		case <-acked:
			return true, telephony.CauseNone
		case <-sent:
			if *sendErr != nil {
				c.log.Warn("200 OK not delivered", "error", *sendErr)
				return false, telephony.CauseFailed
			}
			sent = nil // ACKed: acked is closed too
		case <-ackTimer.C:
			c.log.Warn("no ACK for 200 OK", "after", s.cfg.AckTimeout)
			return false, telephony.CauseAckTimeout
		case <-c.uas.Context().Done(): // BYE before the ACK
			return false, telephony.CauseCallerHangup
		case <-c.ending:
			return false, telephony.CauseNone
		}
	}
}

// endCause classifies why an unanswered INVITE's dialog ended.
func endCause(dlgCtx context.Context) telephony.Cause {
	if errors.Is(context.Cause(dlgCtx), sip.ErrTransactionCanceled) {
		return telephony.CauseCanceled
	}
	return telephony.CauseFailed
}

// offerFrom checks an INVITE's body and negotiates its SDP offer.
func offerFrom(req *sip.Request) (mediaParams, error) {
	if len(req.Body()) > 0 {
		if ct := req.ContentType(); ct != nil && !isSDP(ct.Value()) {
			return mediaParams{}, errUnsupportedBody
		}
	}
	return negotiate(req.Body())
}

func isSDP(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), contentTypeSDP)
}

// rejectOffer answers an INVITE whose body we cannot use: 415 for a body
// that is not SDP, 488 with a Warning for SDP we cannot serve (RFC 3261
// §13.3.1.1, §20.43).
func (s *Server) rejectOffer(tx sip.ServerTransaction, req *sip.Request, err error) {
	s.log.Info("offer refused", "reason", err, "sip_call_id", callID(req))
	if errors.Is(err, errUnsupportedBody) {
		s.reply(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", contentTypeSDP))
		return
	}
	warn, reason := warnMisc, "unusable offer"
	var oe *offerError
	if errors.As(err, &oe) {
		warn, reason = oe.Warning, oe.Reason
	}
	s.reply(tx, req, 488, "Not Acceptable Here",
		sip.NewHeader("Warning", strconv.Itoa(warn)+" "+s.cfg.ContactHost+" "+strconv.Quote(reason)))
}

// reply sends a stateful response outside any dialog.
func (s *Server) reply(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(s.serverHeader())
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("respond failed", "code", code, "method", req.Method.String(), "error", err)
		return
	}
	s.metrics.SIPResponse(req.Method.String(), code)
}

// mediaConfig wires a call's media session to the call.
func (s *Server) mediaConfig(c *call) mediaConfig {
	in, out := s.recordingTaps(c)
	return mediaConfig{
		OnAudioIn:      in,
		OnAudioOut:     out,
		Timeout:        s.cfg.MediaTimeout,
		InitialTimeout: s.cfg.MediaTimeoutInitial,
		DTX:            s.cfg.SilenceSuppression,
		Metrics:        s.rtpM,
		OnDigit:        c.digit,
		OnTimeout:      func() { c.end(telephony.CauseMediaTimeout) },
	}
}

// contactAddr is the IP we announce in SDP.
func (s *Server) contactAddr() netip.Addr {
	ip, _ := netip.ParseAddr(s.cfg.ContactHost) // validated in withDefaults
	return ip
}

func callID(req *sip.Request) string {
	if id := req.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

func dtmfPTAttr(p mediaParams) any {
	if !p.DTMF {
		return "none"
	}
	return p.DTMFPT
}

// newID returns a random call id (16 hex digits).
func newID() string {
	var b [8]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}
