package sipgw

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"hotline/telephony"
)

// TestCallEndToEnd: a Go UAC (our own Dial) calls the gateway; the
// handler's tone reaches the caller, digits arrive by INFO, RFC 4733 and
// in-band tones, once each; the caller hangs up.
func TestCallEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rec := newRecorder(3 * time.Second)
	gw := startGateway(t, Config{}, rec)
	phone := startPhone(t, Config{})

	leg, err := phone.Dial(ctx, gw.uri("+48221234567"), map[string]string{"X-Hotline-Test": "1"})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if info := leg.Info(); info.Codec != "PCMU" || info.Direction != telephony.Outbound {
		t.Errorf("phone leg info %+v", info)
	}
	waitTone(ctx, t, leg, 1000, 10) // the gateway's prompt arrives

	// SIP INFO (application/dtmf-relay).
	info := sip.NewRequest(sip.INFO, leg.(*call).uac.InviteResponse.Contact().Address)
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	info.SetBody([]byte("Signal=1\r\nDuration=160\r\n"))
	res, err := leg.(*call).uac.Do(ctx, info)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	if ev := rec.nextEvent(t); ev.Kind != telephony.EventDTMF || ev.Digit != '1' || ev.Source != "info" {
		t.Fatalf("after INFO: %+v", ev)
	}
	// An INFO body type we do not know is refused with 415, not taken as a key.
	info = sip.NewRequest(sip.INFO, leg.(*call).uac.InviteResponse.Contact().Address)
	info.AppendHeader(sip.NewHeader("Content-Type", "application/vnd.example+xml"))
	info.SetBody([]byte("<key>3</key>"))
	if res, err := leg.(*call).uac.Do(ctx, info); err != nil || res.StatusCode != 415 || res.GetHeader("Accept") == nil {
		t.Fatalf("INFO of unknown type: %v %v", res, err)
	}
	// RFC 4733 at the PT the phone offered (101).
	sendRFC4733(t, leg, '5', ptOfferDTMF)
	if ev := rec.nextEvent(t); ev.Digit != '5' || ev.Source != "rfc4733" {
		t.Fatalf("after RFC 4733: %+v", ev)
	}
	// In-band: the phone plays the dual tone.
	if err := leg.Play(ctx, dtmfSource('9')); err != nil {
		t.Fatal(err)
	}
	if ev := rec.nextEvent(t); ev.Digit != '9' || ev.Source != "inband" {
		t.Fatalf("after in-band: %+v", ev)
	}
	if err := <-rec.playErr; err != nil {
		t.Fatalf("gateway Play: %v", err)
	}
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if ev := rec.nextEvent(t); ev.Kind != telephony.EventHangup || ev.Cause != telephony.CauseCallerHangup {
		t.Fatalf("last event %+v, want hangup by caller (no duplicate digits before it)", ev)
	}
	end := gw.waitEnd(t)
	if end.cause != telephony.CauseCallerHangup || end.info.From != "phone" || end.info.To != "+48221234567" ||
		end.info.Direction != telephony.Inbound || end.info.Codec != "PCMU" {
		t.Errorf("gateway end %+v", end)
	}
	if pe := phone.waitEnd(t); pe.cause != telephony.CauseBotHangup {
		t.Errorf("phone end %+v", pe)
	}
}

// TestByeMidPrompt: the caller hangs up while the bot talks; Play and the
// handler's ctx end at once.
func TestByeMidPrompt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	playDone := make(chan error, 1)
	ctxCause := make(chan error, 1)
	gw := startGateway(t, Config{}, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
		playDone <- leg.Play(ctx, toneSource(1000, 20*time.Second))
		<-ctx.Done()
		ctxCause <- context.Cause(ctx)
		return nil
	}))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, leg, 1000, 5)
	bye := time.Now()
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if err := <-playDone; !errors.Is(err, telephony.ErrLegClosed) && !errors.Is(err, context.Canceled) {
		t.Errorf("Play = %v, want it cut short", err)
	}
	if d := time.Since(bye); d > 2*time.Second {
		t.Errorf("Play ran %v after the BYE", d)
	}
	if err := <-ctxCause; !errors.Is(err, telephony.ErrLegClosed) || !strings.Contains(err.Error(), string(telephony.CauseCallerHangup)) {
		t.Errorf("handler ctx cause %v", err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup {
		t.Errorf("cause %s", end.cause)
	}
}

// TestMediaTimeoutSendsBye: the caller sends no RTP (silence
// suppression); the gateway ends the call and the caller gets a BYE.
func TestMediaTimeoutSendsBye(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before time.Duration // caller audio before it goes quiet
	}{{"no RTP ever", 0}, {"RTP stops", 300 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			gw := startGateway(t, Config{MediaTimeout: 400 * time.Millisecond, MediaTimeoutInitial: 700 * time.Millisecond},
				newRecorder(100*time.Millisecond))
			phone := startPhone(t, Config{SilenceSuppression: true})
			leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.before > 0 {
				if err := leg.Play(ctx, toneSource(440, tc.before)); err != nil {
					t.Fatal(err)
				}
			}
			quiet := time.Now()
			select {
			case <-leg.Done():
			case <-ctx.Done():
				t.Fatal("caller never got a BYE")
			}
			if leg.Cause() != telephony.CauseCallerHangup {
				t.Errorf("caller leg cause %s, want the remote (gateway) hung up", leg.Cause())
			}
			want := 700 * time.Millisecond
			if tc.before > 0 {
				want = 400 * time.Millisecond
			}
			if d := time.Since(quiet); d < want-100*time.Millisecond {
				t.Errorf("ended %v after the caller went quiet, want ≥ %v", d, want)
			}
			if end := gw.waitEnd(t); end.cause != telephony.CauseMediaTimeout {
				t.Errorf("cause %s", end.cause)
			}
		})
	}
}

// TestCancelWhileRinging: the caller gives up during RingTime.
func TestCancelWhileRinging(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	called := make(chan struct{}, 1)
	gw := startGateway(t, Config{RingTime: 10 * time.Second}, telephony.HandlerFunc(func(context.Context, telephony.Leg) error {
		called <- struct{}{}
		return nil
	}))
	phone := startPhone(t, Config{RingTimeout: 500 * time.Millisecond})
	_, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Dial = %v, want ErrNoAnswer after the ring timeout", err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCanceled {
		t.Errorf("gateway cause %s, want canceled", end.cause)
	}
	select {
	case <-called:
		t.Error("handler ran for a cancelled call")
	default:
	}
}

// TestRejectsUnusableInvites: no SDP, bad SDP, G.729 only → 488; a body
// that is not SDP → 415; the server stays healthy.
func TestRejectsUnusableInvites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{}, newRecorder(time.Second))
	raw := newRawUA(t)
	g729 := offer(append(sdpHead("127.0.0.1"), "m=audio 6000 RTP/AVP 18", "a=rtpmap:18 G729/8000")...)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		code        int
	}{
		{"no SDP", "", nil, 488},
		{"bad SDP", "application/sdp", []byte("v=0\r\nthis is not sdp\r\n"), 488},
		{"G729 only", "application/sdp", g729, 488},
		{"not SDP", "text/plain", []byte("hello"), 415},
	} {
		res := raw.do(ctx, t, raw.invite(gw, tc.ctype, tc.body))
		if res.StatusCode != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, res.Reason, tc.code)
		}
		if tc.code == 488 && res.GetHeader("Warning") == nil {
			t.Errorf("%s: 488 without Warning", tc.name)
		}
		if tc.code == 415 && res.GetHeader("Accept") == nil {
			t.Errorf("%s: 415 without Accept", tc.name)
		}
	}
	var to sip.Uri
	_ = sip.ParseUri(gw.uri("bot"), &to)
	res := raw.do(ctx, t, sip.NewRequest(sip.OPTIONS, to))
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil || !strings.Contains(res.GetHeader("Allow").Value(), "INFO") {
		t.Errorf("OPTIONS: %s", res.StartLine())
	}
	if gw.ActiveCalls() != 0 {
		t.Errorf("%d calls live after rejections", gw.ActiveCalls())
	}
}

// TestAckTimeout: a caller that never ACKs our 200 gets a BYE.
func TestAckTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{AckTimeout: 300 * time.Millisecond}, newRecorder(time.Second))
	raw := newRawUA(t)
	req := raw.invite(gw, "application/sdp", offer(append(sdpHead("127.0.0.1"), "m=audio 6000 RTP/AVP 0")...))
	tx, err := raw.cli.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	for res := range tx.Responses() {
		if res.StatusCode == 200 {
			break // and never ACK
		}
	}
	select {
	case <-raw.byes:
	case <-ctx.Done():
		t.Fatal("no BYE after the ACK timeout")
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseAckTimeout {
		t.Errorf("cause %s", end.cause)
	}
}

// TestReInviteRefresh: a session refresh gets the same SDP back; a new
// media address is taken up.
func TestReInviteRefresh(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{}, newRecorder(10*time.Second))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	uac := leg.(*call).uac
	first := uac.InviteResponse.Body()
	reinvite := func(body []byte) *sip.Response {
		req := sip.NewRequest(sip.INVITE, uac.InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
		res, err := uac.Do(ctx, req)
		if err != nil {
			t.Fatalf("re-INVITE: %v", err)
		}
		ack := sip.NewRequest(sip.ACK, uac.InviteResponse.Contact().Address)
		if err := uac.WriteRequest(ack); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := reinvite(leg.(*call).lastSDP)
	if res.StatusCode != 200 || string(res.Body()) != string(first) {
		t.Fatalf("refresh answered %d with a changed SDP:\n%s\nwas:\n%s", res.StatusCode, res.Body(), first)
	}
	// Move our media: the new offer names another port (a peer socket).
	p := newPeer(t)
	moved := strings.Replace(string(leg.(*call).lastSDP), "m=audio "+strconv.Itoa(leg.(*call).media.port), "m=audio "+strconv.Itoa(int(p.addr().Port())), 1)
	res = reinvite([]byte(moved))
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(res.Body()); err != nil || res.StatusCode != 200 {
		t.Fatalf("move answered %d: %v", res.StatusCode, err)
	}
	p.recv(2 * time.Second) // the gateway now sends to the new address
	if res := reinvite(offer(append(sdpHead("127.0.0.1"), "m=audio 6000 RTP/AVP 18")...)); res.StatusCode != 488 {
		t.Errorf("unusable re-offer answered %d, want 488", res.StatusCode)
	}
	// The other way: the gateway's side refreshes the call it answered;
	// the phone (which placed the call) answers with its SDP.
	gwCall := gw.onlyCall(t)
	req := sip.NewRequest(sip.INVITE, gwCall.uas.InviteRequest.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(gwCall.lastSDP)
	if res, err := gwCall.uas.Do(ctx, req); err != nil || res.StatusCode != 200 || len(res.Body()) == 0 {
		t.Fatalf("re-INVITE to the caller: %v %v", res, err)
	}
	if err := gwCall.uas.WriteRequest(sip.NewRequest(sip.ACK, gwCall.uas.InviteRequest.Contact().Address)); err != nil {
		t.Fatal(err)
	}
	// UPDATE without a body (an RFC 4028 refresh) is simply accepted.
	update := sip.NewRequest(sip.UPDATE, uac.InviteResponse.Contact().Address)
	if res, err := uac.Do(ctx, update); err != nil || res.StatusCode != 200 {
		t.Errorf("UPDATE: %v %v", res, err)
	}
	_ = leg.Hangup(ctx, telephony.CauseBotHangup)
	gw.waitEnd(t)
}

// onlyCall returns the gateway's single answered call.
func (g *gateway) onlyCall(t *testing.T) *call {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.calls) != 1 {
		t.Fatalf("%d calls registered, want 1", len(g.calls))
	}
	for _, c := range g.calls {
		return c
	}
	return nil
}

// TestDrainAndShutdown: on stop, new calls get 503 while live calls may
// finish; after DrainTimeout they are hung up with CauseShutdown.
func TestDrainAndShutdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{DrainTimeout: 500 * time.Millisecond}, newRecorder(10*time.Second))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- gw.stop() }()
	for !gw.Draining() {
		select {
		case <-ctx.Done():
			t.Fatal("not draining")
		case <-time.After(5 * time.Millisecond):
		}
	}
	_, err = phone.Dial(ctx, gw.uri("bot"), nil)
	var de *DialError
	if !errors.As(err, &de) || de.StatusCode != 503 {
		t.Errorf("Dial while draining = %v, want 503", err)
	}
	select {
	case <-leg.Done():
	case <-ctx.Done():
		t.Fatal("live call not hung up at shutdown")
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseShutdown {
		t.Errorf("cause %s", end.cause)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestMaxCalls: calls beyond MaxCalls get 503.
func TestMaxCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{MaxCalls: 1}, newRecorder(10*time.Second))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = phone.Dial(ctx, gw.uri("bot"), nil)
	if !errors.Is(err, ErrRejected) || errors.Is(err, ErrBusy) {
		t.Errorf("second call: %v, want a 503 rejection", err)
	}
	_ = leg.Hangup(ctx, telephony.CauseBotHangup)
	gw.waitEnd(t)
}

// TestHandlerHangsUp: the handler returning ends the call with a BYE
// from the gateway; an error return is recorded as failed.
func TestHandlerHangsUp(t *testing.T) {
	for _, tc := range []struct {
		ret  error
		want telephony.Cause
	}{{nil, telephony.CauseBotHangup}, {errors.New("boom"), telephony.CauseFailed}} {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		gw := startGateway(t, Config{}, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
			if err := leg.Play(ctx, toneSource(1000, 200*time.Millisecond)); err != nil {
				return err
			}
			return tc.ret
		}))
		phone := startPhone(t, Config{})
		leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
		if err != nil {
			t.Fatal(err)
		}
		waitTone(ctx, t, leg, 1000, 5) // the whole prompt went out before the BYE
		<-leg.Done()
		if end := gw.waitEnd(t); end.cause != tc.want || leg.Cause() != telephony.CauseCallerHangup {
			t.Errorf("gateway cause %s (want %s), phone cause %s", end.cause, tc.want, leg.Cause())
		}
		cancel()
	}
}

// TestShutdownWhileRinging: a call still ringing at shutdown is refused
// with 503 once the drain time is up.
func TestShutdownWhileRinging(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{RingTime: 20 * time.Second, DrainTimeout: 300 * time.Millisecond}, newRecorder(time.Second))
	phone := startPhone(t, Config{})
	dialed := make(chan error, 1)
	go func() {
		_, err := phone.Dial(ctx, gw.uri("bot"), nil)
		dialed <- err
	}()
	for gw.ActiveCalls() == 0 { // poll until the INVITE is in (bounded by ctx)
		select {
		case <-ctx.Done():
			t.Fatal("INVITE never arrived")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := gw.stop(); err != nil {
		t.Fatal(err)
	}
	var de *DialError
	if err := <-dialed; !errors.As(err, &de) || de.StatusCode != 503 {
		t.Errorf("Dial = %v, want 503 at shutdown", err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseShutdown {
		t.Errorf("cause %s", end.cause)
	}
}
