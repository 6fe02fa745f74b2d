package sipgw

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/telephony"
)

// maxContextHeaderValue bounds one context header value (bytes): case
// context is a few ids, and a proxy may refuse an oversized INVITE.
const maxContextHeaderValue = 256

var (
	_ bridgeSide = telephony.Leg(nil)
	_ bridgeSide = callAudio{}
)

// bridgeTransfer dials the consultant with the call's context headers,
// plays ringback to the caller while it rings, and on answer relays
// audio both ways until either side hangs up, which ends both: both legs
// end with CauseTransferred (whoever hung up), the other party gets BYE.
//
// Transfer blocks for the whole bridged conversation, so the bridge's
// goroutines are owned by the handler's call of Transfer and are gone
// when it returns, and ServeCall returning afterwards finds the leg
// already ended. A dial that fails (busy, no answer, rejected, no
// usable media) stops the ringback and returns ErrTransferFailed with
// the caller's audio as it was. The caller hanging up while the
// consultant rings cancels the INVITE (ErrLegClosed).
//
// While bridged, the caller's RFC 4733 and SIP INFO digits are dropped,
// not forwarded: the consultant needs no keypad, and the handler, blocked
// in Transfer, must not act on them later. In-band tones reach the
// consultant with the rest of the audio.
//
// A bridged call is one recording, the caller's: left the caller, right
// what the caller heard (the bot, the ringback, then the consultant). The
// consultant's leg is not recorded on its own.
func (s *Server) bridgeTransfer(ctx context.Context, c *call, target string, headers map[string]string) error {
	hdrs := contextHeaders(headers, c.log)
	stopRing := c.startRingback(s.cfg.RingbackTone)
	dialCtx, cancel := context.WithCancel(ctx)
	stopCancel := context.AfterFunc(c.ctx, cancel) // the caller hung up: CANCEL the consultant's INVITE
	start := time.Now()
	cons, err := s.dial(dialCtx, target, hdrs, false) // recorded in the caller's file
	stopCancel()
	cancel()
	stopRing()
	if err != nil {
		select {
		case <-c.ending:
			return c.endedResult()
		default:
		}
		c.log.Info("transfer failed", "mode", TransferBridge, "reason", err)
		return fmt.Errorf("%w: bridge: %w", telephony.ErrTransferFailed, err)
	}
	if !c.takeAudio() { // the caller hung up as the consultant answered
		_ = cons.Hangup(context.WithoutCancel(ctx), telephony.CauseBotHangup)
		return c.endedResult()
	}
	// The consultant leg is the bridge's too: its BYE completes the
	// transfer, and its digits go nowhere.
	_ = cons.takeAudio()
	answered := time.Now()
	c.xfer.mu.Lock()
	c.xfer.answeredAt = answered
	c.xfer.mu.Unlock()
	log := c.log.With("consultant_call_id", cons.info.ID)
	log.Info("consultant answered; bridged", "target", maskURI(target),
		"ring", answered.Sub(start).Round(time.Millisecond), "consultant_codec", cons.Info().Codec)

	// Not ctx: a ctx meant to bound the attempt must not cut the
	// conversation short. The legs' ends stop the bridge.
	err = bridge(context.Background(), callAudio{c}, callAudio{cons})
	endedBy := "consultant"
	select {
	case <-c.ending:
		endedBy = "caller"
	default:
	}
	c.end(telephony.CauseTransferred)
	cons.end(telephony.CauseTransferred)
	<-c.done
	<-cons.done
	log.Info("bridge ended", "ended_by", endedBy, "reason", err,
		"talk", time.Since(answered).Round(time.Second))
	return nil
}

// takeAudio hands a leg's audio to the bridge, unless the leg is already
// ending. From here the peer's BYE completes the transfer.
func (c *call) takeAudio() bool {
	c.xfer.mu.Lock()
	defer c.xfer.mu.Unlock()
	select {
	case <-c.ending:
		return false
	default:
	}
	c.xfer.bridged, c.xfer.handedOff = true, true
	return true
}

// contextHeaders returns the headers of a transfer request that may go on
// the consultant's INVITE: X- extension headers with a valid name, their
// values without control characters (CR/LF would let a value start a new
// header or end the head of the message), trimmed and bounded. Others are
// dropped with a warning naming the header, never its value (case data).
func contextHeaders(in map[string]string, log *slog.Logger) map[string]string {
	out := make(map[string]string, len(in))
	for name, value := range in {
		if !isExtensionHeader(name) {
			log.Warn("transfer header dropped: only X- headers with a token name are sent", "header", safeName(name))
			continue
		}
		out[name] = headerSafe(value)
	}
	return out
}

// isExtensionHeader: an "X-" header whose name is an RFC 3261 token.
func isExtensionHeader(name string) bool {
	if len(name) < 3 || !strings.EqualFold(name[:2], "X-") {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		alnum := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
		if !alnum && !strings.ContainsRune("-.!%*_+`'~", rune(b)) {
			return false
		}
	}
	return true
}

// headerSafe strips control characters (keeping tab) and invalid UTF-8,
// trims, and cuts the value at maxContextHeaderValue on a rune boundary.
func headerSafe(v string) string {
	v = strings.ToValidUTF8(v, "")
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0) {
			return r
		}
		return -1
	}, v)
	v = strings.TrimSpace(v)
	if len(v) > maxContextHeaderValue {
		cut := maxContextHeaderValue
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = strings.TrimSpace(v[:cut])
	}
	return v
}

// safeName makes a rejected header name printable for the log.
func safeName(name string) string {
	name = headerSafe(name)
	if len(name) > 40 {
		name = name[:40]
	}
	return name
}
