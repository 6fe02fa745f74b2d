package sipgw

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
)

const (
	// referByeWait is how long, after a successful REFER, we leave the
	// transferee to end our dialog before we send BYE ourselves (RFC 5589
	// §6.1 has the transferor end it; many transferees do it first).
	referByeWait = time.Second
	// contentTypeSipfrag is the NOTIFY body of the refer event package.
	contentTypeSipfrag = "message/sipfrag"
)

// errNoSubscription: a NOTIFY for a REFER we are not (or no longer)
// waiting on.
var errNoSubscription = errors.New("sipgw: no such refer subscription")

// referTransfer is a blind transfer (RFC 3515): REFER in the call's
// dialog, then NOTIFYs carrying the consultant call's progress as
// message/sipfrag. The caller hears ringback until the result is in.
// Success: the dialog ends (their BYE within referByeWait, else ours)
// with CauseTransferred and nil is returned. Failure of any kind
// (REFER refused, a final sipfrag ≥ 300, the subscription terminated
// without a result, no result within ReferTimeout): the ringback stops
// and ErrTransferFailed says why; the call carries on. The request's
// Headers are not sent: the transferee places the consultant's call.
func (s *Server) referTransfer(ctx context.Context, c *call, target string) error {
	sub := &referSub{bell: make(chan struct{}, 1)}
	c.xfer.mu.Lock()
	c.xfer.sub = sub // before the REFER: a NOTIFY may overtake the 202
	c.xfer.mu.Unlock()

	stopRing := c.startRingback(s.cfg.RingbackTone)
	defer stopRing()
	rctx, cancel := context.WithTimeout(ctx, s.cfg.ReferTimeout)
	defer cancel()
	fail := func(reason error) error {
		select {
		case <-c.ending: // the caller hung up meanwhile, or the transferee did after the 202
			stopRing()
			return c.endedResult()
		default:
		}
		if errors.Is(reason, context.DeadlineExceeded) && ctx.Err() == nil {
			reason = fmt.Errorf("no final NOTIFY within %s", s.cfg.ReferTimeout)
		}
		stopRing()
		c.log.Info("transfer failed", "mode", TransferRefer, "reason", reason)
		return fmt.Errorf("%w: refer: %w", telephony.ErrTransferFailed, reason)
	}

	start := time.Now()
	code, reason, err := c.sendRefer(rctx, target, sub)
	switch {
	case err != nil:
		return fail(err)
	case code >= 300:
		return fail(fmt.Errorf("REFER refused: %d %s", code, reason))
	}
	c.xfer.setHandedOff(true)
	c.log.Info("transfer accepted by peer", "mode", TransferRefer, "status", code, "target", maskURI(target))
	if err := sub.await(rctx, c.ending); err != nil {
		return fail(err)
	}
	stopRing()
	c.log.Info("transfer succeeded", "mode", TransferRefer, "after", time.Since(start).Round(time.Millisecond))
	t := time.NewTimer(referByeWait)
	defer t.Stop()
	select {
	case <-c.ending:
	case <-t.C:
		c.end(telephony.CauseTransferred) // sends BYE
	}
	return c.endedResult()
}

// sendRefer sends the REFER and returns its final response. sub learns
// the REFER's CSeq, which NOTIFYs quote in Event's id (RFC 3515 §2.4.6).
func (c *call) sendRefer(ctx context.Context, target string, sub *referSub) (int, string, error) {
	var (
		remote *sip.ContactHeader
		local  sip.Uri
		txReq  func(context.Context, *sip.Request) (sip.ClientTransaction, error)
	)
	switch {
	case c.uas != nil:
		remote, local, txReq = c.uas.InviteRequest.Contact(), c.uas.InviteRequest.To().Address, c.uas.TransactionRequest
	case c.uac != nil:
		remote, local, txReq = c.uac.InviteResponse.Contact(), c.uac.InviteRequest.From().Address, c.uac.TransactionRequest
	}
	if remote == nil {
		return 0, "", errors.New("the peer gave no Contact to send REFER to")
	}
	req := sip.NewRequest(sip.REFER, remote.Address)
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+local.String()+">"))
	req.AppendHeader(sip.NewHeader("User-Agent", c.srv.cfg.UserAgent))
	tx, err := txReq(ctx, req)
	if err != nil {
		return 0, "", fmt.Errorf("send REFER: %w", err)
	}
	defer tx.Terminate()
	sub.cseq.Store(req.CSeq().SeqNo)
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res.StatusCode, res.Reason, nil
		case <-tx.Done():
			return 0, "", fmt.Errorf("REFER: %w", cmp.Or(tx.Err(), errors.New("transaction ended")))
		case <-ctx.Done():
			return 0, "", ctx.Err()
		}
	}
}

// referSub is the implicit subscription a REFER creates (RFC 3515
// §2.4.4): onNotify records each NOTIFY's sipfrag status and rings bell.
type referSub struct {
	cseq atomic.Uint32 // the REFER's CSeq; 0 until sent
	bell chan struct{} // capacity 1: a doorbell

	mu         sync.Mutex
	status     int
	reason     string
	terminated bool
}

// update records one NOTIFY. A final status is kept once seen.
func (r *referSub) update(status int, reason string, terminated bool) {
	r.mu.Lock()
	if r.status < 200 {
		r.status, r.reason = status, reason
	}
	r.terminated = r.terminated || terminated
	r.mu.Unlock()
	select {
	case r.bell <- struct{}{}:
	default:
	}
}

// await waits for the outcome: nil for a 2xx sipfrag, else why not.
func (r *referSub) await(ctx context.Context, ending <-chan struct{}) error {
	for {
		r.mu.Lock()
		status, reason, terminated := r.status, r.reason, r.terminated
		r.mu.Unlock()
		switch {
		case status >= 200 && status < 300:
			return nil
		case status >= 300:
			return fmt.Errorf("consultant call failed: %d %s", status, reason)
		case terminated:
			return fmt.Errorf("subscription terminated without a final status (last %d)", status)
		}
		select {
		case <-r.bell:
		case <-ending:
			return telephony.ErrLegClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// matches reports whether a NOTIFY's Event id names this subscription.
// With no id, or before the REFER's CSeq is known, any NOTIFY does: we
// have one REFER per dialog at a time.
func (r *referSub) matches(id string) bool {
	cseq := r.cseq.Load()
	if id == "" || cseq == 0 {
		return true
	}
	n, err := strconv.ParseUint(id, 10, 32)
	return err == nil && uint32(n) == cseq
}

// onNotify takes the refer event package's NOTIFYs (RFC 3515 §2.4.4):
// each is answered 200 and its sipfrag status handed to the waiting
// Transfer. NOTIFYs of other packages get 489, those of no live
// subscription 481 (which also tells the notifier to stop, RFC 6665
// §4.1.3).
func (s *Server) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	event, id := "", ""
	if h := req.GetHeader("Event"); h != nil {
		event, id = parseEvent(h.Value())
	}
	if !strings.EqualFold(event, "refer") {
		s.reply(tx, req, 489, "Bad Event", sip.NewHeader("Allow-Events", "refer"))
		return
	}
	c.xfer.mu.Lock()
	sub := c.xfer.sub
	c.xfer.mu.Unlock()
	if sub == nil || !sub.matches(id) {
		c.log.Debug("NOTIFY refused", "error", errNoSubscription)
		s.reply(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	if ct := req.ContentType(); ct != nil && !isSipfrag(ct.Value()) {
		s.reply(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", contentTypeSipfrag))
		return
	}
	status, reason, err := parseSipfrag(req.Body())
	if err != nil {
		c.log.Debug("NOTIFY body not understood", "error", err)
		s.reply(tx, req, 400, "Bad Request")
		return
	}
	terminated := false
	if h := req.GetHeader("Subscription-State"); h != nil {
		state, _, _ := strings.Cut(h.Value(), ";")
		terminated = strings.EqualFold(strings.TrimSpace(state), "terminated")
	}
	s.reply(tx, req, 200, "OK")
	c.log.Info("transfer progress", "status", status, "subscription_terminated", terminated)
	sub.update(status, reason, terminated)
}

// parseEvent splits an Event header value ("refer;id=93809824") into the
// package name and the id parameter.
func parseEvent(v string) (event, id string) {
	parts := strings.Split(v, ";")
	event = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "id") {
			id = strings.TrimSpace(val)
		}
	}
	return event, id
}

func isSipfrag(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), contentTypeSipfrag)
}

// parseSipfrag reads the status line a refer NOTIFY carries (RFC 3420),
// e.g. "SIP/2.0 486 Busy Here"; headers after it are ignored.
func parseSipfrag(body []byte) (int, string, error) {
	line, _, _ := bytes.Cut(bytes.TrimLeft(body, " \t\r\n"), []byte("\n"))
	f := strings.SplitN(strings.TrimSpace(string(line)), " ", 3)
	if len(f) < 2 || !strings.EqualFold(f[0], "SIP/2.0") {
		return 0, "", errors.New("sipfrag: no SIP/2.0 status line")
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, "", fmt.Errorf("sipfrag: bad status code %q", f[1])
	}
	reason := ""
	if len(f) == 3 {
		reason = strings.TrimSpace(f[2])
	}
	return code, reason, nil
}

// maskURI hides the user part of a SIP URI for logs (it may be a phone
// number): "sip:+48221234567@pbx" → "sip:*********567@pbx".
func maskURI(target string) string {
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil {
		return "(unparsable)"
	}
	uri.User = mask(uri.User)
	uri.Password = ""
	return uri.String()
}
