package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBrowserCallerVerifiesWithKeypad is acceptance (1) of the browser
// calls: a caller in Chromium clicks "Zadzwoń" on the test page, keys in
// the case number and the date of birth on the on-screen keypad
// (RTCDTMFSender → RFC 4733), presses 1, and the page shows the debt
// amount as a subtitle. The server must have decoded the fake
// microphone's tone (its per-leg received level, reported to the page),
// the page must have received the assistant's PCMU audio, and the call
// must be recorded as a verified webrtc call that the caller hung up.
func TestBrowserCallerVerifiesWithKeypad(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	s := startServe(t, "HOTLINE_WEBRTC_LOOPBACK_ONLY=true")
	mic := fakeMicrophone(t, 440, 60)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	run := runBrowser(ctx, t, "call.mjs", map[string]string{"URL": "http://" + s.http, "FAKE_AUDIO": mic}, nil)
	r := run.Result

	const debt = "Łączna kwota do zapłaty wynosi tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy"
	subs, _ := r["subtitles"].([]any)
	found := false
	for _, sub := range subs {
		if str, _ := sub.(string); strings.Contains(str, debt) {
			found = true
		}
	}
	if !found {
		t.Errorf("no debt amount subtitle; the page showed %d subtitles:\n%v\n%s", len(subs), subs, run.Output)
	}
	if got := r["keys"]; got != "12345678#020119801" {
		t.Errorf("keys sent = %v", got)
	}
	// The page trickled ICE (offer sent before gathering ended): both
	// sides' candidates crossed on the events socket.
	cands, _ := r["candidates"].(map[string]any)
	sent, _ := cands["sent"].(float64)
	received, _ := cands["received"].(float64)
	if r["trickle"] != true || sent < 1 || received < 1 {
		t.Errorf("trickle ICE: trickle=%v, candidates %v; want some sent and received", r["trickle"], cands)
	}

	// What the server decoded from the browser's microphone: the fake
	// capture is a 440 Hz tone at RMS ≈ 5700; Chromium's audio processing
	// (noise suppression, AGC) changes the level, but digital silence or a
	// broken decoder gives ~0.
	rx, _ := r["serverRx"].(map[string]any)
	if rms, _ := rx["rms"].(float64); rms < 200 {
		t.Errorf("server decoded RMS %v from the fake microphone, want >= 200 (non-silent): %v", rms, rx)
	}
	if pk, _ := rx["packets"].(float64); pk < 100 {
		t.Errorf("server received %v packets", pk)
	}

	// What the page received from the assistant: PCMU, non-silent.
	stats, _ := r["stats"].(map[string]any)
	in, _ := stats["inbound"].(map[string]any)
	if codec, _ := in["codec"].(string); !strings.EqualFold(codec, "audio/PCMU") {
		t.Errorf("page's inbound codec = %q, want audio/PCMU (%v)", codec, stats)
	}
	if e, _ := in["energy"].(float64); e <= 0 {
		t.Errorf("page's inbound audio energy = %v: the assistant was silent", e)
	}
	out, _ := stats["outbound"].(map[string]any)
	if codec, _ := out["codec"].(string); !strings.EqualFold(codec, "audio/PCMU") {
		t.Errorf("page's outbound codec = %v, want audio/PCMU", out)
	}
	after, _ := r["after"].(map[string]any)
	if after["state"] != "ended" {
		t.Errorf("after hangup the page is %v", after)
	}

	t.Logf("server decoded RMS %v over %v packets from the fake microphone; page received %v packets of %v, audio energy %v",
		rx["rms"], rx["packets"], in["packets"], in["codec"], in["energy"])

	call := s.waitEnded(t)
	if call.LegType != "webrtc" || call.Verification != "verified" || call.CaseNumber != "12345678" {
		t.Errorf("call record: leg %q, verification %q, case %q", call.LegType, call.Verification, call.CaseNumber)
	}
	if call.Termination != "caller_hung_up" {
		t.Errorf("termination = %q, want caller_hung_up", call.Termination)
	}
}
