package webrtcgw

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/pion/webrtc/v4"

	"hotline/telephony"
)

// withoutCandidates drops the candidate lines of an SDP, so that in these
// tests candidates can only travel by trickling (RFC 8838).
func withoutCandidates(sdp string) string {
	var b strings.Builder
	for line := range strings.SplitAfterSeq(sdp, "\n") {
		if strings.HasPrefix(line, "a=candidate:") || strings.HasPrefix(line, "a=end-of-candidates") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// TestSignalTrickleICE: a pion peer offers with "trickle": true and no
// candidates in its SDP; the answer comes at once; both sides' candidates
// cross on the events WebSocket (ours ending with end-of-candidates), the
// call connects, audio flows both ways, and the server's ICE agent has
// the peer's host candidate as trickled (not one it discovered from
// connectivity checks: peer-reflexive).
func TestSignalTrickleICE(t *testing.T) {
	rec := newRecorder(2 * time.Second)
	g, base := startSignal(t, Config{}, rec)
	c := newClient(t, 126)
	local := make(chan webrtc.ICECandidateInit, 16)
	c.pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		var init webrtc.ICECandidateInit // nil: gathering complete
		if ic != nil {
			init = ic.ToJSON()
		}
		local <- init
	})
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(OfferRequest{SDP: withoutCandidates(c.pc.LocalDescription().SDP), Trickle: true})
	if err != nil {
		t.Fatal(err)
	}
	code, out := postOffer(t, base, string(body))
	if code != http.StatusOK || out["id"] == "" || !strings.Contains(out["sdp"], "a=fingerprint") {
		t.Fatalf("POST /offer = %d %v", code, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/webrtc/events/"+out["id"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()

	// The peer's candidates first (it has no answer yet, so it cannot
	// check connectivity and the server cannot learn it peer-reflexive).
	sent := 0
	for done := false; !done; {
		select {
		case init := <-local:
			if err := wsjson.Write(ctx, ws, PageMessage{Type: "candidate", Candidate: &init}); err != nil {
				t.Fatal(err)
			}
			done = init.Candidate == ""
			if !done {
				sent++
			}
		case <-ctx.Done():
			t.Fatal("the peer gathered no end of candidates")
		}
	}
	if sent == 0 {
		t.Fatal("the peer gathered no candidates")
	}

	// Then the server's, up to its end-of-candidates; notes may come
	// between them.
	var theirs []webrtc.ICECandidateInit
	for end := false; !end; {
		var m struct {
			Type      string                  `json:"type"`
			Kind      string                  `json:"kind"`
			Candidate webrtc.ICECandidateInit `json:"candidate"`
		}
		if err := wsjson.Read(ctx, ws, &m); err != nil {
			t.Fatalf("reading the server's candidates (have %d): %v", len(theirs), err)
		}
		if m.Type != "candidate" {
			continue
		}
		if end = m.Candidate.Candidate == ""; !end {
			if !strings.Contains(m.Candidate.Candidate, "127.0.0.1") || m.Candidate.SDPMid == nil {
				t.Errorf("server candidate %+v: want a loopback host candidate with its mid", m.Candidate)
			}
			theirs = append(theirs, m.Candidate)
		}
	}
	if len(theirs) == 0 {
		t.Fatal("the server trickled no candidates before its end of candidates")
	}

	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: withoutCandidates(out["sdp"])}); err != nil {
		t.Fatal(err)
	}
	for _, cand := range theirs {
		if err := c.pc.AddICECandidate(cand); err != nil {
			t.Fatalf("peer: add %+v: %v", cand, err)
		}
	}
	wait(t, c.connected, "ICE over trickled candidates")
	c.wg.Go(c.sendLoop)
	if err := wait(t, rec.played, "the server's audio"); err != nil {
		t.Fatalf("play: %v", err)
	}

	leg, ok := g.Leg(out["id"])
	if !ok {
		t.Fatal("the leg is gone")
	}
	if typ := remoteCandidateType(t, leg); typ != webrtc.ICECandidateTypeHost {
		t.Errorf("server's selected remote candidate is %s, want the trickled host candidate", typ)
	}
	if err := leg.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:garbage"}); err == nil {
		t.Error("a malformed candidate was accepted")
	}
	_, span, pkts, _ := c.audioStats()
	if pkts < 50 || span < time.Second {
		t.Errorf("the peer received %d packets over %s of the server's tone", pkts, span)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, loud := rec.result(); loud >= 25 {
			break
		}
		if time.Now().After(deadline) {
			_, loud := rec.result()
			t.Fatalf("the server heard %d frames of the peer's tone", loud)
		}
		time.Sleep(20 * time.Millisecond) // polling the handler's count
	}

	if err := wsjson.Write(ctx, ws, PageMessage{Type: "hangup"}); err != nil {
		t.Fatal(err)
	}
	if cause := wait(t, rec.ended, "the hangup"); cause != telephony.CauseCallerHangup {
		t.Errorf("cause = %s", cause)
	}
	wait(t, c.ended, "the peer to end")
}

// TestCompleteOfferAnswerHasCandidates: without trickle the answer
// carries our candidates and its events socket sends none.
func TestCompleteOfferAnswerHasCandidates(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	c := newClient(t, 126)
	ans, leg, err := g.Accept(context.Background(), c.offer(), telephony.LegInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = leg.Hangup(context.Background(), telephony.CauseBotHangup) }()
	if !strings.Contains(ans, "a=candidate:") || !strings.Contains(ans, "127.0.0.1") {
		t.Errorf("complete answer without a loopback candidate:\n%s", ans)
	}
	if leg.LocalCandidates() != nil {
		t.Error("a complete-offer leg trickles candidates")
	}
	c.answer(ans)
}

// remoteCandidateType polls the server leg's selected candidate pair.
func remoteCandidateType(t *testing.T, l *Leg) webrtc.ICECandidateType {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, s := range l.pc.GetSenders() {
			if tr := s.Transport(); tr != nil {
				if pair, err := tr.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
					return pair.Remote.Typ
				}
			}
		}
	}
	t.Fatal("no selected candidate pair on the server")
	return 0
}
