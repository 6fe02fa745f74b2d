package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/assistant/redistest"
	"hotline/telephony"
)

// TestConsoleAnswersCallerOnAnotherInstance: two `hotline serve`
// instances on one Redis, as behind a load balancer. The SIP caller's
// call is on instance A; the consultant's console is logged in on B.
// The consultant answers through B: B relays the browser's offer to A
// through Redis, A negotiates the consultant's leg and bridges it to the
// caller, and the media flows between Chromium and A. The browser hears
// the caller and the caller hears the consultant; hanging up through B
// ends the call on A.
func TestConsoleAnswersCallerOnAnotherInstance(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	// Inside the namespace: a redis-server of the test's own on its
	// loopback, with the demo cases.
	rds := redistest.StartServer(t)
	redisEnv := []string{"HOTLINE_REDIS_URL=" + rds.URL(), "HOTLINE_REDIS_PREFIX=hotline:relay:"}
	if r := runHotline(t, redisEnv, "", "cases", "import", "../../configs/demo-cases.yaml"); r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	env := append(append([]string{}, consoleEnv...), "HOTLINE_WEBRTC_LOOPBACK_ONLY=true")
	env = append(env, redisEnv...)
	a, b := startServe(t, env...), startServe(t, env...)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var caller *phone
	var callerMu sync.Mutex
	dialed := make(chan struct{})
	run := runBrowser(ctx, t, "console_call.mjs", map[string]string{
		"URL": "http://" + b.http, "FAKE_AUDIO": fakeMicrophone(t, 1000, 30), "SHOT_PREFIX": "relay-",
		"CONSULTANT": "konsultant", "CONSULTANT_PASSWORD": "demo-konsultant",
		"SUPERVISOR": "kierownik", "SUPERVISOR_PASSWORD": "demo-kierownik",
	}, func(line string) {
		switch line {
		case "READY":
			go func() {
				defer close(dialed)
				p := dial(t, a) // the caller's call is on A
				p.out.keys(debtorKeys)
				a.liveCall(t, "złotych", 90*time.Second)
				p.out.keys("0")
				callerMu.Lock()
				caller = p
				callerMu.Unlock()
			}()
		case "CONNECTED":
			<-dialed
			callerMu.Lock()
			if caller != nil {
				caller.mark.Store(true)
			}
			callerMu.Unlock()
		}
	})
	<-dialed
	if caller == nil {
		t.Fatalf("the SIP caller never got through\n%s", run.Output)
	}
	t.Logf("browser: %v", run.Result)
	if got := run.Result["case"]; got != "12345678" {
		t.Errorf("screen-pop on B: case number %v, want 12345678\n%s", got, run.Output)
	}
	// The answer came from A, complete: no candidate socket was named
	// (it would be on A, which the console does not talk to).
	cands, _ := run.Result["candidates"].(map[string]any)
	if sent, _ := cands["sent"].(float64); sent != 0 {
		t.Errorf("the page trickled %v candidates: the answer was not the relayed one", cands)
	}
	if !strings.Contains(b.stderr.String(), "relayed=true") {
		t.Errorf("B's log does not show a relayed answer:\n%s", tail(b.stderr.String(), 6000))
	}
	if !strings.Contains(a.stderr.String(), "answered a call relayed from another instance") {
		t.Errorf("A's log does not show it answered for B:\n%s", tail(a.stderr.String(), 6000))
	}
	// What each side received.
	stats, _ := run.Result["stats"].(map[string]any)
	if p, _ := stats["packets"].(float64); p < 150 {
		t.Errorf("the consultant's page received %v packets from the caller", stats["packets"])
	}
	if e, _ := stats["energy"].(float64); e < 0.05 {
		t.Errorf("the consultant's page heard no caller audio (totalAudioEnergy %v)", stats["energy"])
	}
	tone, total := caller.toneFrames(1000)
	t.Logf("SIP caller heard %d frames after the answer, %d of them the consultant's 1000 Hz tone", total, tone)
	if tone < 50 {
		t.Errorf("the SIP caller heard only %d frames of the consultant's microphone (of %d)", tone, total)
	}
	// The consultant's hang-up on B ended the call on A.
	call := a.waitEnded(t)
	if !strings.HasPrefix(call.Termination, string(telephony.CauseTransferred)) {
		t.Errorf("termination %q, want %q", call.Termination, telephony.CauseTransferred)
	}
	if notes := a.call(t, call.ID).Notes; len(notes) != 1 || notes[0].By != "konsultant" {
		t.Errorf("notes written on B, read on A: %+v", notes)
	}
}
