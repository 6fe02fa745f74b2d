package sipgw

import (
	"bytes"
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"hotline/telephony/dtmf"
)

// allowMethods is our Allow header: what onNoRoute and OPTIONS advertise.
// NOTIFY carries a REFER's progress (sip_refer.go). REFER is not in it:
// we send REFER but refuse one sent to us.
const allowMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY"

// routes registers the request handlers. sipgo calls each on its own
// goroutine; they only answer and forward into the call.
func (s *Server) routes() {
	s.sip.OnInvite(s.onInvite)
	s.sip.OnAck(s.onAck)
	s.sip.OnBye(s.onBye)
	s.sip.OnCancel(s.onCancel)
	s.sip.OnInfo(s.onInfo)
	s.sip.OnUpdate(s.onUpdate)
	s.sip.OnOptions(s.onOptions)
	s.sip.OnNotify(s.onNotify) // sip_refer.go
	s.sip.OnNoRoute(s.onNoRoute)
}

// onAck confirms a dialog (the ACK to our 2xx is a transaction of its
// own, RFC 3261 §17.1.1.3).
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil || c.uas == nil {
		return // stray, or the ACK to a re-INVITE on an outbound call
	}
	if err := c.uas.ReadAck(req, tx); err != nil {
		c.log.Debug("ACK ignored", "error", err)
	}
}

// onBye ends a call the remote party hung up.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	var err error
	if c.uas != nil {
		err = c.uas.ReadBye(req, tx)
	} else {
		err = c.uac.ReadBye(req, tx)
	}
	if err != nil {
		c.log.Warn("BYE not accepted", "error", err)
		s.reply(tx, req, 400, "Bad Request")
		return
	}
	c.end(c.byeCause()) // transfer.go: CauseTransferred once handed off
}

// onCancel answers a CANCEL that matched no INVITE transaction (the
// transaction layer handles those that do: 200, then 487 to the INVITE).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
}

// onInfo takes DTMF carried in SIP INFO (application/dtmf-relay or
// application/dtmf). An empty INFO is a keep-alive: 200.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) == 0 {
		s.reply(tx, req, 200, "OK")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	digit, dur, err := dtmf.ParseInfo(ct, req.Body())
	switch {
	case errors.Is(err, dtmf.ErrUnsupportedContentType):
		s.reply(tx, req, 415, "Unsupported Media Type",
			sip.NewHeader("Accept", dtmf.ContentTypeDTMFRelay+", "+dtmf.ContentTypeDTMF))
		return
	case err != nil:
		c.log.Debug("INFO body not understood", "error", err)
		s.reply(tx, req, 400, "Bad Request")
		return
	}
	s.reply(tx, req, 200, "OK")
	c.digit(dtmf.Event{Digit: digit, Source: dtmf.SourceInfo, Duration: dur})
}

// onReInvite answers an INVITE inside a dialog: a session refresh (RFC
// 4028), hold, or a media move. We answer with our current SDP, taking a
// new remote address or codec choice from the offer; an offer we cannot
// serve gets 488 and leaves the call as it was (RFC 3261 §14.2).
func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	// On a dialog we answered, track the caller's CSeq so the ACK to this
	// re-INVITE is matched (RFC 3261 §12.2.2). On one we placed, sipgo
	// seeds the remote CSeq with ours, so its check would refuse the
	// callee's own numbering: skip it.
	if c.uas != nil {
		if err := c.uas.ReadRequest(req, tx); err != nil {
			s.reply(tx, req, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
			return
		}
	}
	s.answerOffer(c, req, tx)
}

// onUpdate handles UPDATE (RFC 3311), used for session refresh too.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) == 0 {
		s.reply(tx, req, 200, "OK", s.contactFor(req))
		return
	}
	s.answerOffer(c, req, tx)
}

// answerOffer answers a re-INVITE or UPDATE with our SDP.
func (s *Server) answerOffer(c *call, req *sip.Request, tx sip.ServerTransaction) {
	body, err := c.reanswer(req)
	if err != nil {
		c.log.Info("re-offer refused", "reason", err)
		s.rejectOffer(tx, req, err)
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(s.contactFor(req))
	res.AppendHeader(s.serverHeader())
	if err := tx.Respond(res); err != nil {
		c.log.Debug("re-offer answer failed", "error", err)
		return
	}
	s.metrics.SIPResponse(req.Method.String(), 200)
}

// reanswer computes our answer to a new offer on an established call.
// With no offer (an offerless re-INVITE) our last SDP is the offer.
func (c *call) reanswer(req *sip.Request) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(req.Body()) == 0 {
		return c.lastSDP, nil
	}
	p, err := offerFrom(req)
	if err != nil {
		return nil, err
	}
	body, err := buildAnswer(c.local, p)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(body, c.lastSDP) {
		// Our session changed: a new o= version (RFC 3264 §8).
		c.local.Version++
		if body, err = buildAnswer(c.local, p); err != nil {
			return nil, err
		}
	}
	c.lastSDP = body
	c.media.setParams(p)
	return body, nil
}

// onOptions answers capability queries and health probes: 200 with what
// we accept, or 503 while draining so a proxy stops sending calls.
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.draining.Load() && s.lookup(req) == nil {
		s.reply(tx, req, 503, "Service Unavailable", s.retryAfter())
		return
	}
	s.reply(tx, req, 200, "OK",
		sip.NewHeader("Allow", allowMethods),
		sip.NewHeader("Accept", strings.Join([]string{contentTypeSDP, dtmf.ContentTypeDTMFRelay, dtmf.ContentTypeDTMF}, ", ")),
		sip.NewHeader("Accept-Language", "pl, en"))
}

// onNoRoute refuses methods we do not implement (405 with Allow).
func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	s.reply(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowMethods))
}

// contactFor returns our Contact for the transport req came in on.
func (s *Server) contactFor(req *sip.Request) sip.Header {
	h := s.dialogUAFor(req.Transport()).ContactHDR
	return h.Clone()
}
