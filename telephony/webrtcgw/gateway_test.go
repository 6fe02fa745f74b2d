package webrtcgw

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
)

func newTestGateway(t *testing.T, cfg Config, h telephony.Handler) *Gateway {
	t.Helper()
	cfg.LoopbackOnly = true
	g, err := New(cfg, h, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return g
}

// dial makes a client call the gateway's handler.
func dial(t *testing.T, g *Gateway, tePT uint8) (*client, *Leg) {
	t.Helper()
	c := newClient(t, tePT)
	ans, leg, err := g.Answer(context.Background(), c.offer(), telephony.LegInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.answer(ans)
	return c, leg
}

func TestCallDigitsAudioAndCallerHangup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pt    uint8
		close bool // hang up by closing (DTLS close_notify), else RTCP BYE
	}{
		{"chrome offer PT 126, close", 126, true},
		{"PT 101 offer, rtcp bye", 101, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(time.Second)
			g := newTestGateway(t, Config{}, rec)
			c, leg := dial(t, g, tc.pt)
			if !strings.Contains(leg.pc.LocalDescription().SDP, "telephone-event/8000") {
				t.Fatalf("answer lacks telephone-event:\n%s", leg.pc.LocalDescription().SDP)
			}
			if info := leg.Info(); info.Type != "webrtc" || info.Codec != "PCMU" || info.ID == "" {
				t.Errorf("info = %+v", info)
			}

			start := time.Now()
			if err := wait(t, rec.played, "the bot's tone to play"); err != nil {
				t.Fatalf("Play: %v", err)
			}
			// Paced: a 1 s prompt takes about 1 s (the send queue lets Play
			// run at most 60 ms ahead).
			if el := time.Since(start); el < 900*time.Millisecond {
				t.Errorf("1 s prompt played in %v: not paced", el)
			}

			c.press("159#")
			for range 4 {
				wait(t, rec.gotDigit, "a digit")
			}
			// Hang up only once the tone was heard too, then check that no
			// digit came twice (end packets are sent 3×).
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, loud := rec.result(); loud >= 25 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if tc.close {
				c.close()
			} else {
				c.hangupBye()
			}
			if cause := wait(t, rec.ended, "the leg to end"); cause != telephony.CauseCallerHangup {
				t.Errorf("cause = %q, want %q", cause, telephony.CauseCallerHangup)
			}
			digits, loud := rec.result()
			if digits != "159#" {
				t.Errorf("digits = %q, want %q (each once)", digits, "159#")
			}
			if loud < 25 {
				t.Errorf("handler heard %d frames of the caller's 440 Hz tone, want >= 25", loud)
			}
			st := leg.Stats()
			if st.RxRMS < 1000 || st.Digits != 4 {
				t.Errorf("stats = %+v: want RxRMS >= 1000 and 4 digits", st)
			}

			pcm, span, pkts, tsBad := c.audioStats()
			if n := loudFrames(pcm, 1000, 3000); n < 45 {
				t.Errorf("client got %d frames of the bot's 1 kHz tone, want >= 45 (of 50)", n)
			}
			if span < 900*time.Millisecond || span > 1300*time.Millisecond {
				t.Errorf("bot's 1 s tone arrived over %v: not paced at 20 ms", span)
			}
			if pkts < 50 || tsBad > 2 {
				t.Errorf("client got %d packets, %d timestamp steps other than 160", pkts, tsBad)
			}
			<-leg.Done()
			if g.ActiveCalls() != 0 {
				t.Errorf("ActiveCalls = %d after the end", g.ActiveCalls())
			}
		})
	}
}

func TestBotHangupEndsClient(t *testing.T) {
	g := newTestGateway(t, Config{}, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
		return leg.Play(ctx, frameReader{audio.NewFrameReader(audio.Tone(1000, -6, 1600, audio.Rate))})
	}))
	c, leg := dial(t, g, 126)
	wait(t, leg.Done(), "the bot to hang up")
	if leg.Cause() != telephony.CauseBotHangup {
		t.Errorf("cause = %q, want %q", leg.Cause(), telephony.CauseBotHangup)
	}
	wait(t, c.ended, "the client to see the end")
	var notes []string
	for n := range leg.Notes() {
		notes = append(notes, n.Kind+":"+n.Data["state"]+n.Data["cause"])
	}
	if len(notes) == 0 || notes[len(notes)-1] != "hangup:bot_hung_up" {
		t.Errorf("notes = %v, want the last to be hangup:bot_hung_up", notes)
	}
	ev, ok := <-leg.Events()
	if !ok || ev.Kind != telephony.EventHangup || ev.Cause != telephony.CauseBotHangup {
		t.Errorf("last event = %+v, %v", ev, ok)
	}
	if _, ok := <-leg.Events(); ok {
		t.Error("Events not closed after the hangup")
	}
	if err := leg.Transfer(context.Background(), telephony.TransferRequest{}); !errors.Is(err, telephony.ErrNotSupported) {
		t.Errorf("Transfer = %v, want ErrNotSupported", err)
	}
	if err := leg.Play(context.Background(), frameReader{audio.NewFrameReader(nil)}); !errors.Is(err, telephony.ErrLegClosed) {
		t.Errorf("Play after the end = %v", err)
	}
	var f audio.Frame
	if err := leg.ReadAudio(context.Background(), &f); !errors.Is(err, telephony.ErrLegClosed) {
		t.Errorf("ReadAudio after the end = %v", err)
	}
}

func TestMediaTimeout(t *testing.T) {
	rec := newRecorder(0)
	g := newTestGateway(t, Config{MediaTimeout: time.Second}, rec)
	c, leg := dial(t, g, 126)
	c.mute <- true // the browser stops sending RTP (ICE stays up)
	if cause := wait(t, rec.ended, "the media timeout"); cause != telephony.CauseMediaTimeout {
		t.Errorf("cause = %q, want %q", cause, telephony.CauseMediaTimeout)
	}
	<-leg.Done()
}

func TestAcceptHasNoHandlerAndHangupIsIdempotent(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	if _, _, err := g.Answer(context.Background(), newClient(t, 126).offer(), telephony.LegInfo{}); err == nil {
		t.Fatal("Answer without a handler succeeded")
	}
	c := newClient(t, 126)
	ans, leg, err := g.Accept(context.Background(), c.offer(), telephony.LegInfo{ID: "consultant-1", From: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	c.answer(ans)
	if got, ok := g.Leg("consultant-1"); !ok || got != leg {
		t.Fatal("Leg(id) does not find the accepted leg")
	}
	if err := leg.Hangup(context.Background(), telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if err := leg.Hangup(context.Background(), telephony.CauseFailed); err != nil {
		t.Fatal(err)
	}
	if leg.Cause() != telephony.CauseBotHangup {
		t.Errorf("cause = %q: the first cause must win", leg.Cause())
	}
}

func TestAdmission(t *testing.T) {
	g := newTestGateway(t, Config{MaxCalls: 1}, newRecorder(0))
	c1, leg := dial(t, g, 126)
	c2 := newClient(t, 126)
	if _, _, err := g.Answer(context.Background(), c2.offer(), telephony.LegInfo{}); !errors.Is(err, ErrBusy) {
		t.Errorf("second call at MaxCalls 1: %v, want ErrBusy", err)
	}
	g.Drain()
	c1.close()
	<-leg.Done()
	c3 := newClient(t, 126)
	if _, _, err := g.Answer(context.Background(), c3.offer(), telephony.LegInfo{}); !errors.Is(err, ErrDraining) {
		t.Errorf("call while draining: %v, want ErrDraining", err)
	}
	// A consultant's leg joins a live call: still accepted while draining.
	c4 := newClient(t, 126)
	ans, leg4, err := g.Accept(context.Background(), c4.offer(), telephony.LegInfo{})
	if err != nil {
		t.Fatalf("Accept while draining: %v", err)
	}
	c4.answer(ans)
	// Shutdown cuts it and refuses any more.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := g.Shutdown(ctx); err == nil {
		t.Error("Shutdown cut a live leg without saying so")
	}
	<-leg4.Done()
	if leg4.Cause() != telephony.CauseShutdown {
		t.Errorf("accepted leg ended with %s, want %s", leg4.Cause(), telephony.CauseShutdown)
	}
	if _, _, err := g.Accept(context.Background(), newClient(t, 126).offer(), telephony.LegInfo{}); !errors.Is(err, ErrDraining) {
		t.Errorf("Accept after Shutdown: %v, want ErrDraining", err)
	}
}

func TestBadOffers(t *testing.T) {
	g := newTestGateway(t, Config{}, newRecorder(0))
	opus := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
	for name, offer := range map[string]string{
		"empty":     "",
		"garbage":   "hello",
		"opus only": opus,
		"no dtls":   strings.Replace(opus, "111\r\n", "0\r\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := g.Answer(context.Background(), offer, telephony.LegInfo{}); !errors.Is(err, ErrBadOffer) {
				t.Errorf("Answer = %v, want ErrBadOffer", err)
			}
		})
	}
	if g.ActiveCalls() != 0 {
		t.Errorf("ActiveCalls = %d after refused offers", g.ActiveCalls())
	}
}

func TestNotifyDropsOldest(t *testing.T) {
	l := &Leg{notes: make(chan telephony.Note, noteBuffer)}
	for i := range noteBuffer + 10 {
		l.Notify(telephony.Note{Kind: "subtitle", Text: string(rune('A' + i%26)), Data: map[string]string{"i": string(rune('0' + i/10))}})
	}
	if len(l.notes) != noteBuffer || l.notesDrop != 10 {
		t.Fatalf("queued %d, dropped %d", len(l.notes), l.notesDrop)
	}
	if first := <-l.notes; first.Text != string(rune('A'+10)) {
		t.Errorf("oldest kept = %q, want the 11th note", first.Text)
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"negative timeout": {MediaTimeout: -1},
		"negative max":     {MaxCalls: -1},
		"half port range":  {UDPPortMin: 10000},
		"inverted range":   {UDPPortMin: 20000, UDPPortMax: 10000},
		"bad nat ip":       {NAT1To1IPs: []string{"example.com"}},
	} {
		if _, err := New(cfg, nil, nil); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	g, err := New(Config{}, nil, nil)
	if err != nil || g.cfg.MediaTimeout != defaultMediaTimeout {
		t.Errorf("defaults: %v, %+v", err, g.cfg)
	}
}

// TestBridgeTwoBrowsers: two accepted legs (a caller and a consultant)
// bridged by telephony.Bridge hear each other; the consultant hanging up
// ends the caller's leg with CauseTransferred.
func TestBridgeTwoBrowsers(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	caller, consultant := newClient(t, 126), newClient(t, 101)
	consultant.freq = 1000
	ansA, legA, err := g.Accept(context.Background(), caller.offer(), telephony.LegInfo{})
	if err != nil {
		t.Fatal(err)
	}
	caller.answer(ansA)
	ansB, legB, err := g.Accept(context.Background(), consultant.offer(), telephony.LegInfo{})
	if err != nil {
		t.Fatal(err)
	}
	consultant.answer(ansB)
	errc := make(chan error, 1)
	go func() { errc <- telephony.Bridge(context.Background(), legA, legB) }()

	deadline := time.Now().Add(5 * time.Second)
	for {
		a, _, _, _ := caller.audioStats()
		b, _, _, _ := consultant.audioStats()
		if loudFrames(a, 1000, 1000) >= 25 && loudFrames(b, 440, 1000) >= 25 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridged audio: caller heard %d frames of 1 kHz, consultant %d of 440 Hz",
				loudFrames(a, 1000, 1000), loudFrames(b, 440, 1000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	consultant.close()
	if err := wait(t, errc, "the bridge to end"); err != nil {
		t.Fatalf("Bridge: %v", err)
	}
	if legB.Cause() != telephony.CauseCallerHangup || legA.Cause() != telephony.CauseTransferred {
		t.Errorf("causes: caller %q, consultant %q", legA.Cause(), legB.Cause())
	}
	wait(t, caller.ended, "the caller's browser to see the end")
}
