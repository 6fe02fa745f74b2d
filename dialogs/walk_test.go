package dialogs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/dialogs"
)

// TestRandomWalks throws seeded random callers at the flow (keys with
// garbage, right and wrong numbers and dates, speech intents, silences)
// over a fake world with a normal case, a locked case and random
// availability, and checks the invariants after every step:
//   - nothing about a case (no amount, date, time, account, text or digits
//     segment, no disclosure, no callback) before verification;
//   - Verified only after the Verifier said so, and never for the locked case;
//   - no unexpected errors; the state survives a JSON round trip (in one
//     walk of eight every step continues from the decoded copy, as the
//     engine does; the others skip it to keep the test fast);
//   - attempts, re-prompts and Verify calls stay within the config, and a
//     silent caller is hung up on within 2×(MaxReprompts+1) timeouts;
//   - one walk in three is an outbound call: before the callee says they
//     are the person called, no Verify call and only neutral prompts (see
//     checkOutbound), and its outcome matches how it ended.
func TestRandomWalks(t *testing.T) {
	walks := 100_000
	if testing.Short() || raceEnabled {
		walks = 10_000
	}
	all := dialogs.PromptIDs()
	var (
		mu                      sync.Mutex
		used                    = map[string]bool{}
		verified, locked, total int
	)
	t.Run("walks", func(t *testing.T) {
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			t.Run(fmt.Sprint(w), func(t *testing.T) {
				t.Parallel()
				seen := map[string]bool{}
				var v, l, n int
				for seed := w; seed < walks; seed += workers {
					st, verifies := randomWalk(t, uint64(seed), seen)
					if t.Failed() {
						t.Fatalf("seed %d failed", seed)
					}
					n++
					if st.Verified {
						v++
					}
					if slices.ContainsFunc(verifies, func(s string) bool { return strings.HasPrefix(s, lockedCase+"/") }) {
						l++
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for id := range seen {
					used[id] = true
				}
				verified, locked, total = verified+v, locked+l, total+n
			})
		}
	})
	if t.Failed() {
		return
	}
	// The walks must reach the interesting places often enough to mean something.
	t.Logf("%d walks: %d verified, %d entered the locked case", total, verified, locked)
	if total != walks || verified < walks/10 || locked < walks/10 {
		t.Errorf("walks too shallow: %d walks, %d verified, %d locked", total, verified, locked)
	}
	for _, id := range all {
		if !used[id] {
			t.Errorf("prompt %q never said in %d walks", id, walks)
		}
	}
}

// walker holds one random caller.
type walker struct {
	r          *rand.Rand
	lockedOnly bool    // never enters the good case number
	helpful    float64 // how often the caller answers the question asked
}

// randomWalk runs one random caller to the end and returns the final
// state and the Verify calls made.
func randomWalk(t *testing.T, seed uint64, seen map[string]bool) (dialogs.State, []string) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	wk := walker{r: r, lockedOnly: seed%4 == 0, helpful: r.Float64()}
	fullJSON := seed%8 == 1
	cfg := dialogs.Config{
		MaxAttempts:   1 + r.IntN(4),
		MaxReprompts:  1 + r.IntN(4),
		CallbackSlots: 1 + r.IntN(4),
		SpeechInput:   r.IntN(2) == 0,
	}
	w := newWorld()
	pFree, pTaken, pNoSlots := r.Float64(), r.Float64()*0.6, r.Float64()*0.3
	w.available = func(time.Time) bool { return r.Float64() < pFree }
	w.book = func(string, time.Time) error {
		if r.Float64() < pTaken {
			return dialogs.ErrSlotUnavailable
		}
		return nil
	}
	pGone, pNoPayments := r.Float64()*0.1, r.Float64()
	w.findCase = func(number string) (dialogs.Case, error) {
		if number != goodCase || r.Float64() < pGone {
			return dialogs.Case{}, dialogs.ErrCaseNotFound
		}
		c := goodCaseData()
		if r.Float64() < pNoPayments {
			c.LastPayment, c.NextInstallment = nil, nil
		}
		return c, nil
	}
	slots := w.slots
	w.slots = func(now time.Time, n int) ([]time.Time, error) {
		if r.Float64() < pNoSlots {
			return nil, nil
		}
		return slots(now, n)
	}
	f := newFlow(t, cfg, w)
	cfg = f.Config()
	speechIDs := !cfg.SpeechInput

	var st dialogs.State
	outbound := seed%3 == 2
	if outbound {
		// An outbound call for a case number on file (not verified), or
		// a callback asked for without one.
		target := wk.caseNumber()
		if r.IntN(5) == 0 {
			target = ""
		}
		st = dialogs.NewOutbound(target)
	}
	at := now
	steps := 1 + r.IntN(60)
	for i := 0; st.Phase != dialogs.PhaseEnded; i++ {
		ev := start()
		switch {
		case i > 0 && i < steps:
			ev = wk.event(st.Expect())
		case i >= steps:
			ev = timeout()
			if i >= steps+2*(cfg.MaxReprompts+1) {
				t.Errorf("seed %d: silent caller not hung up on after %d timeouts (phase %q)", seed, i-steps, st.Phase)
				return st, w.verified
			}
		}
		at = at.Add(7 * time.Second)
		ev.in.At = at
		wasVerified := st.Verified
		r, err := step(f, &st, ev)
		if err != nil {
			t.Errorf("seed %d step %d %+v: %v", seed, i, ev, err)
			return st, w.verified
		}
		for _, id := range promptIDs(r) {
			seen[id] = true
			if speechIDs && strings.HasSuffix(id, "_speech") {
				t.Errorf("seed %d: speech wording %q without speech input", seed, id)
			}
		}
		checkStep(t, seed, cfg, w, wasVerified, st, r, at)
		checkOutbound(t, seed, outbound, w, st, r)
		if i >= steps && st.Phase == dialogs.PhaseEnded && r.Action != hang("no_input") {
			t.Errorf("seed %d: silence ended with %+v", seed, r.Action)
		}
		if st.Phase == dialogs.PhaseEnded && st.TransferReason != "" && i < steps && wk.r.IntN(2) == 0 {
			// The telephony side reports that no consultant took the call.
			wasVerified := st.Verified
			rr, err := step(f, &st, event{in: dialogs.Input{Kind: dialogs.InputTransferFailed, At: at}})
			if err != nil {
				t.Errorf("seed %d step %d transfer failed: %v", seed, i, err)
				return st, w.verified
			}
			for _, id := range promptIDs(rr) {
				seen[id] = true
			}
			checkStep(t, seed, cfg, w, wasVerified, st, rr, at)
		}
		if st.Phase != dialogs.PhaseEnded && i < steps && wk.r.IntN(10) == 0 {
			// The engine could not reach the case data (Redis down).
			wasVerified := st.Verified
			rr, err := step(f, &st, event{in: dialogs.Input{Kind: dialogs.InputOutage, At: at}})
			if err != nil {
				t.Errorf("seed %d step %d outage: %v", seed, i, err)
				return st, w.verified
			}
			for _, id := range promptIDs(rr) {
				seen[id] = true
			}
			checkStep(t, seed, cfg, w, wasVerified, st, rr, at)
			checkOutbound(t, seed, outbound, w, st, rr)
		}
		if fullJSON {
			st = roundTrip(t, st)
		}
		if t.Failed() {
			t.Logf("seed %d step %d event %+v\nstate %+v\nreply %+v", seed, i, ev, st, r)
			return st, w.verified
		}
	}
	if _, err := step(f, &st, wk.event(st.Expect())); err != dialogs.ErrEnded {
		t.Errorf("seed %d: Step after the end = %v, want ErrEnded", seed, err)
	}
	if wk.lockedOnly && st.Verified {
		t.Errorf("seed %d: verified without the good case (Verify calls %v)", seed, w.verified)
	}
	return st, w.verified
}

// beforeRightParty are the only prompts an outbound callee hears before
// saying they are the person called: nothing about a case or a debt.
var beforeRightParty = []string{"greeting", "notice_ai", "notice_recording", "outbound_purpose",
	"right_party_ask", "right_party_ask_speech", "right_party_again", "right_party_again_speech",
	"not_heard", "not_understood", "invalid_choice", "wrong_party", "party_absent", "goodbye",
	"data_unavailable"}

// checkOutbound asserts the outbound invariants: before the right-party
// check no Verify call and only the neutral prompts; verified only after
// it; inbound calls never see the check.
func checkOutbound(t *testing.T, seed uint64, outbound bool, w *world, st dialogs.State, r dialogs.Reply) {
	t.Helper()
	if !outbound {
		if st.Outbound || st.RightParty || st.Phase == dialogs.PhaseRightParty {
			t.Errorf("seed %d: inbound call in the outbound flow: %+v", seed, st)
		}
		return
	}
	if !st.RightParty {
		if len(w.verified) > 0 || st.PendingCase != "" || st.Verified {
			t.Errorf("seed %d: verification before the right-party check: %+v (Verify calls %v)", seed, st, w.verified)
		}
		for _, id := range promptIDs(r) {
			if !slices.Contains(beforeRightParty, id) {
				t.Errorf("seed %d: %q said before the right-party check", seed, id)
			}
		}
	}
	if st.Phase == dialogs.PhaseEnded {
		want := dialogs.OutcomeNoAnswer
		switch {
		case st.RightParty:
			want = dialogs.OutcomeRightParty
		case r.Action.Reason == dialogs.ReasonWrongParty:
			want = dialogs.OutcomeWrongParty
		}
		if got := dialogs.Outcome(st, r.Action); got != want {
			t.Errorf("seed %d: outcome %q, want %q", seed, got, want)
		}
	}
}

// checkStep asserts the per-step invariants.
func checkStep(t *testing.T, seed uint64, cfg dialogs.Config, w *world, wasVerified bool, st dialogs.State, r dialogs.Reply, at time.Time) {
	t.Helper()
	if !wasVerified {
		if segs := caseSegments(r); len(segs) > 0 || len(r.Disclosures) > 0 || r.Callback != nil {
			t.Errorf("seed %d: case data before verification: %+v %+v %+v", seed, segs, r.Disclosures, r.Callback)
		}
	}
	if wasVerified && !st.Verified {
		t.Errorf("seed %d: verification lost", seed)
	}
	if st.Verified && (st.CaseNumber != goodCase || !slices.Contains(w.verified, goodCase+"/"+goodBirth)) {
		t.Errorf("seed %d: verified %q without the right pair (Verify calls %v)", seed, st.CaseNumber, w.verified)
	}
	for _, d := range r.Disclosures {
		if d.CaseNumber != st.CaseNumber || !d.At.Equal(at) {
			t.Errorf("seed %d: disclosure %+v", seed, d)
		}
	}
	if st.Attempts > cfg.MaxAttempts || st.Reprompts > cfg.MaxReprompts || len(w.verified) > cfg.MaxAttempts {
		t.Errorf("seed %d: over the bounds: attempts %d, reprompts %d, Verify calls %d", seed, st.Attempts, st.Reprompts, len(w.verified))
	}
	if r.Expect != st.Expect() {
		t.Errorf("seed %d: reply Expect %+v, state Expect %+v", seed, r.Expect, st.Expect())
	}
	ended := st.Phase == dialogs.PhaseEnded
	if ended != (r.Action.Kind != dialogs.ActionNone) {
		t.Errorf("seed %d: phase %q with action %+v", seed, st.Phase, r.Action)
	}
	if ended {
		if r.Expect != (dialogs.Expect{}) {
			t.Errorf("seed %d: ended but expects %+v", seed, r.Expect)
		}
		if !slices.Contains(allowedReasons[r.Action.Kind], r.Action.Reason) {
			t.Errorf("seed %d: action %+v", seed, r.Action)
		}
		return
	}
	if len(r.Say) == 0 || r.Expect.Kind == dialogs.ExpectNothing || r.Expect.Timeout != cfg.InputTimeout {
		t.Errorf("seed %d: silent or expectless turn: %+v", seed, r)
	}
	if r.Expect.Kind == dialogs.ExpectSlot && (r.Expect.Options != len(st.Slots) || r.Expect.Options < 1 || r.Expect.Options > cfg.CallbackSlots) {
		t.Errorf("seed %d: slot options %d for %d slots", seed, r.Expect.Options, len(st.Slots))
	}
}

var allowedReasons = map[dialogs.ActionKind][]string{
	dialogs.ActionHangup: {dialogs.ReasonCallerHangup, dialogs.ReasonCallerDone, dialogs.ReasonNoInput, dialogs.ReasonTransferFail,
		dialogs.ReasonNotVerified, dialogs.ReasonCaseLocked, dialogs.ReasonWrongParty, dialogs.ReasonPartyAbsent,
		dialogs.ReasonDataOutage},
	dialogs.ActionTransfer: {dialogs.ReasonCallerRequest, dialogs.ReasonNotVerified, dialogs.ReasonCaseLocked,
		dialogs.ReasonDataOutage},
}

// roundTrip encodes and decodes st as the session store does, and checks
// that nothing is lost.
func roundTrip(t *testing.T, st dialogs.State) dialogs.State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back dialogs.State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); !bytes.Equal(b, b2) {
		t.Errorf("state JSON round trip:\n%s\n%s", b, b2)
	}
	return back
}

// event draws one random caller event; a helpful caller answers the
// question (not always rightly), the others press and say anything.
func (wk walker) event(exp dialogs.Expect) event {
	r := wk.r
	if r.Float64() < wk.helpful {
		switch exp.Kind {
		case dialogs.ExpectCaseNumber:
			return keys(wk.caseNumber() + "#")
		case dialogs.ExpectBirthDate:
			if r.IntN(2) == 0 {
				return speech(dialogs.Intent{Kind: dialogs.IntentDate, Date: goodBirthDate})
			}
			return keys(goodBirth)
		case dialogs.ExpectMenu:
			return keys(string("0123459"[r.IntN(7)]))
		case dialogs.ExpectChoice, dialogs.ExpectSlot:
			return keys(fmt.Sprint(r.IntN(exp.Options + 2)))
		}
	}
	switch n := r.IntN(100); {
	case n < 12:
		return timeout()
	case n < 13:
		return hangup()
	case n < 55:
		return keys(wk.keys())
	default:
		return speech(wk.intent())
	}
}

// keys draws keypad input: numbers and dates that fit, and garbage.
func (wk walker) keys() string {
	r := wk.r
	switch r.IntN(8) {
	case 0:
		return wk.caseNumber() + "#"
	case 1:
		return goodBirth
	case 2:
		return wk.digits(8)
	case 3:
		return wk.digits(r.IntN(15)) + "#"
	case 4, 5:
		return string("0123456789*#"[r.IntN(12)])
	default:
		b := make([]byte, r.IntN(7))
		for i := range b {
			b[i] = "0123456789*#"[r.IntN(12)]
		}
		return string(b)
	}
}

// caseNumber draws a case number to enter: the good one (unless
// lockedOnly), the locked one, or a random one.
func (wk walker) caseNumber() string {
	switch wk.r.IntN(3) {
	case 0:
		if !wk.lockedOnly {
			return goodCase
		}
		return lockedCase
	case 1:
		return lockedCase
	}
	return wk.digits(6 + wk.r.IntN(7))
}

func (wk walker) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + wk.r.IntN(10))
	}
	if wk.lockedOnly && string(b) == goodCase {
		return lockedCase
	}
	return string(b)
}

// intent draws what an NLU could report, valid or not.
func (wk walker) intent() dialogs.Intent {
	r := wk.r
	kinds := []dialogs.IntentKind{dialogs.IntentNone, dialogs.IntentDebt, dialogs.IntentPayments, dialogs.IntentCallback,
		dialogs.IntentComplaints, dialogs.IntentRepeat, dialogs.IntentYes, dialogs.IntentNo,
		dialogs.IntentDigits, dialogs.IntentDigits, dialogs.IntentDate, dialogs.IntentDate, dialogs.IntentSlot,
		dialogs.IntentChoice, dialogs.IntentUnknown, "nonsense"}
	if r.IntN(10) == 0 {
		kinds = []dialogs.IntentKind{dialogs.IntentConsultant, dialogs.IntentGoodbye}
	}
	it := dialogs.Intent{Kind: kinds[r.IntN(len(kinds))]}
	switch it.Kind {
	case dialogs.IntentDigits:
		it.Digits = []string{wk.caseNumber(), goodBirth, wk.digits(r.IntN(14)), "12x4567"}[r.IntN(4)]
	case dialogs.IntentDate:
		it.Date = []time.Time{goodBirthDate, {}, time.Date(1850+r.IntN(200), time.Month(1+r.IntN(12)), 1+r.IntN(31), 0, 0, 0, 0, time.UTC)}[r.IntN(3)]
	case dialogs.IntentSlot:
		it.When = []time.Time{freeSlots[r.IntN(len(freeSlots))], {}, now.Add(time.Duration(r.IntN(96)-24) * time.Hour)}[r.IntN(3)]
	case dialogs.IntentChoice:
		it.Choice = r.IntN(12) - 1
	}
	return it
}
