package sipgw

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
)

// Dial places an outbound call (the UAC side) and returns the answered
// leg. target is a SIP URI ("sip:+48123456789@trunk.example:5060", with
// ;transport=tcp for TCP); headers are added to the INVITE (the bridge
// puts the call's context in X-Hotline-* headers). Digest challenges are
// answered with Config.AuthUsername/AuthPassword. Dial gives up after
// Config.RingTimeout or when ctx ends, cancelling the INVITE.
//
// The caller owns the leg: it reads its events and must Hangup it. Errors
// match ErrNoAnswer, ErrBusy, ErrRejected (a *DialError carries the SIP
// status), ErrMediaUnusable, ErrDraining, ErrAtCapacity or ErrNotServing.
func (s *Server) Dial(ctx context.Context, target string, headers map[string]string) (telephony.Leg, error) {
	c, err := s.dial(ctx, target, headers, true)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return c, nil
}

// dial is Dial; record says whether the call gets a recording of its
// own. A bridge's consultant leg does not: the caller's recording already
// has the consultant in its right channel (what the caller heard).
func (s *Server) dial(ctx context.Context, target string, headers map[string]string, record bool) (*call, error) {
	select {
	case <-s.ready:
	default:
		return nil, ErrNotServing
	}
	if s.stopped.Load() {
		return nil, ErrNotServing
	}
	var uri sip.Uri
	// The target is not quoted in errors: it is a phone number.
	if err := sip.ParseUri(target, &uri); err != nil {
		return nil, fmt.Errorf("sipgw: dial: bad target URI: %w", err)
	}
	if uri.Scheme != "sip" {
		return nil, errors.New("sipgw: dial: target must be a sip: URI")
	}
	info := telephony.LegInfo{
		ID:        newID(),
		Type:      legType,
		Direction: telephony.Outbound,
		From:      s.cfg.UserAgent,
		To:        uri.User,
		CallID:    newID() + newID(),
		StartedAt: time.Now(),
	}
	log := s.log.With("call_id", info.ID, "sip_call_id", info.CallID, "direction", string(info.Direction),
		"to", mask(info.To))
	c := newCall(s, info, log)
	var err error
	if c.media, err = openMedia(s.ports, s.mediaConfig(c), log); err != nil {
		return nil, err
	}
	if err := s.admit(c); err != nil {
		c.media.close()
		return nil, err
	}
	fail := func(err error) (*call, error) {
		c.end(telephony.CauseFailed)
		<-c.done
		return nil, err
	}
	local := localMedia{Addr: s.contactAddr(), Port: c.media.port, SessionID: rand.Uint64() >> 1, Version: 1}
	offer, err := buildOffer(local)
	if err != nil {
		return fail(err)
	}
	req := s.newInvite(uri, offer, headers, info.CallID)

	dlg, err := s.invite(ctx, c, req)
	if err != nil {
		return fail(err)
	}
	p, err := negotiate(dlg.InviteResponse.Body())
	c.mu.Lock()
	select {
	case <-c.ending: // shut down while ringing: teardown ran without a dialog
		c.mu.Unlock()
		byeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeTimeout)
		defer cancel()
		_ = dlg.Ack(byeCtx)
		_ = dlg.Bye(byeCtx)
		<-c.done
		return nil, ErrDraining
	default:
	}
	c.uac, c.answered, c.local, c.lastSDP = dlg, true, local, offer
	c.mu.Unlock()
	if err != nil {
		// RFC 3261 §13.2.2.4: a 2xx we cannot use is still ACKed, then
		// the call is ended with BYE (teardown sends it).
		_ = dlg.Ack(context.WithoutCancel(ctx))
		return fail(fmt.Errorf("%w: %w", ErrMediaUnusable, err))
	}
	localTag, _ := req.From().Params.Get("tag")
	remoteTag, _ := dlg.InviteResponse.To().Params.Get("tag")
	s.register(c, sip.DialogIDMake(c.info.CallID, localTag, remoteTag))
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		return fail(fmt.Errorf("sipgw: dial: ACK: %w", err))
	}
	if record {
		s.startRecording(c)
	}
	c.media.run(p)
	c.log.Info("outbound call answered", "codec", p.Codec.Name, "dtmf_pt", dtmfPTAttr(p),
		"rtp_port", c.media.port, "setup", time.Since(info.StartedAt).Round(time.Millisecond))
	return c, nil
}

// newInvite builds the INVITE request for Dial.
func (s *Server) newInvite(uri sip.Uri, offer []byte, headers map[string]string, callID string) *sip.Request {
	req := sip.NewRequest(sip.INVITE, uri)
	if uri.UriParams != nil {
		if tp, ok := uri.UriParams.Get("transport"); ok && tp != "" {
			req.SetTransport(strings.ToUpper(tp))
		}
	}
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", contentTypeSDP))
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		req.AppendHeader(sip.NewHeader(k, headers[k]))
	}
	// sipgo fills From, To, Call-ID and CSeq when it sends; we need the
	// Call-ID and our tag before that, so set them here.
	from := &sip.FromHeader{
		DisplayName: s.cfg.UserAgent,
		Address:     sip.Uri{Scheme: "sip", User: s.cfg.UserAgent, Host: s.cfg.ContactHost},
		Params:      sip.NewParams(),
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: uri.User, Host: uri.Host, Port: uri.Port}}
	cid := sip.CallIDHeader(callID)
	req.PrependHeader(from, to, &cid)
	return req
}

// invite sends the INVITE and waits for a 2xx, within the ring timeout.
func (s *Server) invite(ctx context.Context, c *call, req *sip.Request) (*sipgo.DialogClientSession, error) {
	ringCtx, cancel := context.WithTimeout(ctx, s.cfg.RingTimeout)
	defer cancel()
	// A shutdown (teardown) while ringing cancels the INVITE.
	defer context.AfterFunc(c.ctx, cancel)()
	dlg, err := s.dialogUAFor(req.Transport()).WriteInvite(ringCtx, req)
	if err != nil {
		return nil, fmt.Errorf("sipgw: dial: send INVITE: %w", err)
	}
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username: s.cfg.AuthUsername,
		Password: s.cfg.AuthPassword,
		OnResponse: func(res *sip.Response) error {
			c.log.Debug("INVITE response", "code", res.StatusCode)
			return nil
		},
	})
	if err == nil {
		return dlg, nil
	}
	_ = dlg.Close()
	var de *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &de):
		return nil, &DialError{StatusCode: de.Res.StatusCode, Reason: de.Res.Reason}
	case c.ctx.Err() != nil:
		return nil, fmt.Errorf("%w: call ended while ringing", ErrDraining)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("sipgw: dial: %w", ctx.Err())
	case ringCtx.Err() != nil:
		return nil, fmt.Errorf("%w (ring timeout %s)", ErrNoAnswer, s.cfg.RingTimeout)
	}
	return nil, fmt.Errorf("sipgw: dial: %w", err)
}
