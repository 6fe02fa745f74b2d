package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/assistant/console"
	"hotline/assistant/consultants"
	"hotline/assistant/redistest"
	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

// relayAccepted is one offer a relayAcceptor took.
type relayAccepted struct {
	offer   string
	trickle bool
	leg     *telephonytest.Leg
}

// relayAcceptor hands out fake legs and tells what it was asked.
type relayAcceptor struct{ got chan relayAccepted }

func (a *relayAcceptor) Accept(_ context.Context, offer string, info telephony.LegInfo, trickle bool) (string, string, telephony.Leg, error) {
	l := telephonytest.NewLeg(info)
	a.got <- relayAccepted{offer, trickle, l}
	if trickle {
		return "v=0\r\nanswer", "/webrtc/events/" + info.ID, l, nil
	}
	return "v=0\r\nanswer with every candidate", "", l, nil
}

// relayPeer is one `hotline serve`'s queue and console on a shared Redis.
type relayPeer struct {
	srv *httptest.Server
	q   *consultants.Service
	acc *relayAcceptor
}

func newRelayPeer(t *testing.T, rdb redis.UniversalClient, prefix string) *relayPeer {
	t.Helper()
	acc := &relayAcceptor{got: make(chan relayAccepted, 4)}
	srv, q, _ := serveConsole(t, rdb, prefix, acc, console.Options{
		Users: []console.User{{Name: "ala", DisplayName: "Ala", Role: console.RoleConsultant}},
	})
	return &relayPeer{srv: srv, q: q, acc: acc}
}

// TestAnswerRelayedToTheCallersInstance: the caller waits on instance A;
// the consultant's console talks to B. Answering through B gets A's
// complete SDP answer (no trickle socket, though the browser offered
// to trickle), A's console negotiated the leg from the browser's very
// offer and handed it to the caller, and a second answer is a conflict.
// Hanging up through B ends the leg on A.
func TestAnswerRelayedToTheCallersInstance(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	a, b := newRelayPeer(t, rdb, prefix), newRelayPeer(t, rdb, prefix)
	jar := (&rig{srv: b.srv}).browser(t)
	if jar.login("ala", password) != http.StatusSeeOther {
		t.Fatal("login on B")
	}
	ws, _ := jar.dial(jar.csrf, "")
	readUntil(t, ws, "queue")
	if got := jar.post("/console/api/presence", `{"state":"available"}`).code; got != http.StatusOK {
		t.Fatalf("presence: %d", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type waited struct {
		leg telephony.Leg
		err error
	}
	done := make(chan waited, 1)
	go func() {
		leg, _, err := a.q.Wait(ctx, &assistant.TransferContext{CallID: "call-88", Reason: "caller_request", Verified: true, CaseNumber: "7654321"}, func(int) {})
		done <- waited{leg, err}
	}()
	defer func() { cancel(); <-done }()
	if offer, _ := readUntil(t, ws, "offer"); offer["call_id"] != "call-88" {
		t.Fatalf("offer %v", offer)
	}

	const offer = "v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\nthe browser's offer"
	body, _ := json.Marshal(map[string]any{"sdp": offer, "trickle": true})
	got := jar.post("/console/api/calls/call-88/answer", string(body))
	var ans map[string]string
	if got.code != http.StatusOK || json.Unmarshal([]byte(got.body), &ans) != nil {
		t.Fatalf("answer through B: %d %s", got.code, got.body)
	}
	if ans["sdp"] != "v=0\r\nanswer with every candidate" {
		t.Errorf("answer SDP %q, want A's complete answer", ans["sdp"])
	}
	if ev, ok := ans["events"]; ok {
		t.Errorf("a relayed answer names a trickle socket %q: it would be on the other instance", ev)
	}
	acc := <-a.acc.got
	if acc.offer != offer || acc.trickle {
		t.Errorf("A accepted %q (trickle %v), want the browser's offer without trickle", acc.offer, acc.trickle)
	}
	select {
	case x := <-b.acc.got:
		t.Fatalf("B negotiated a leg itself (trickle %v)", x.trickle)
	default:
	}
	w := <-done
	if w.err != nil || w.leg != telephony.Leg(acc.leg) {
		t.Fatalf("the caller on A got %v, %v", w.leg, w.err)
	}
	done <- w

	if got := jar.post("/console/api/calls/call-88/answer", string(body)); got.code != http.StatusConflict {
		t.Errorf("second answer: %d %s, want 409", got.code, got.body)
	}
	if got := jar.post("/console/api/calls/call-88/hangup", "").code; got != http.StatusOK {
		t.Fatalf("hangup through B: %d", got)
	}
	select {
	case <-acc.leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the consultant's leg on A was not hung up")
	}
	if !strings.HasPrefix(acc.leg.Info().ID, "console-") {
		t.Errorf("leg id %q", acc.leg.Info().ID)
	}
}
