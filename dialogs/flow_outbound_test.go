package dialogs_test

import (
	"slices"
	"testing"
	"time"

	"hotline/dialogs"
)

// walkOutbound runs events from a fresh outbound state for target.
func walkOutbound(t testing.TB, f *dialogs.Flow, target string, evs ...event) dialogs.State {
	t.Helper()
	st := dialogs.NewOutbound(target)
	for i, ev := range evs {
		if _, err := step(f, &st, ev); err != nil {
			t.Fatalf("walk step %d (%+v): %v", i, ev, err)
		}
	}
	return st
}

// Paths of an outbound call.
var (
	toRightParty   = []event{start()}
	toOutBirthDate = []event{start(), keys("1")}
	toOutMenu      = []event{start(), keys("1"), keys(goodBirth)}
)

// TestOutboundStep drives the outbound flow: the right-party check comes
// before anything, the case number is never asked, and wrong parties,
// absent persons and silence end the call with nothing said about it.
func TestOutboundStep(t *testing.T) {
	tests := []struct {
		name    string
		cfg     dialogs.Config
		target  string
		from    []event
		ev      event
		phase   dialogs.Phase
		prompts []string
		action  dialogs.Action
		kinds   []dialogs.DisclosureKind
		outcome string // after an ending step
		check   func(t *testing.T, w *world, st dialogs.State, r dialogs.Reply)
	}{
		{name: "start: greeting, notices, purpose, right-party question", ev: start(),
			phase: dialogs.PhaseRightParty, prompts: ids("greeting", "notice_ai", "notice_recording", "outbound_purpose", "right_party_ask"),
			check: func(t *testing.T, w *world, st dialogs.State, r dialogs.Reply) {
				barge := []bool{r.Say[0].NoBargeIn, r.Say[1].NoBargeIn, r.Say[2].NoBargeIn, r.Say[3].NoBargeIn, r.Say[4].NoBargeIn}
				if !slices.Equal(barge, []bool{false, true, true, false, false}) {
					t.Errorf("NoBargeIn = %v, want only the notices", barge)
				}
				want := dialogs.Expect{Kind: dialogs.ExpectChoice, MaxDigits: 1, Options: 3, Timeout: 8 * time.Second}
				if r.Expect != want {
					t.Errorf("Expect = %+v, want %+v", r.Expect, want)
				}
				if st.PendingCase != "" || st.Verified || st.CaseNumber != "" || st.RightParty {
					t.Errorf("state before the answer: %+v", st)
				}
				noVerify(t, w, st, r)
			}},
		{name: "start with speech", cfg: dialogs.Config{SpeechInput: true}, ev: start(),
			phase: dialogs.PhaseRightParty, prompts: ids("greeting", "notice_ai", "notice_recording", "outbound_purpose", "right_party_ask_speech")},
		{name: "1: right party, date of birth asked, no case number", from: toRightParty, ev: keys("1"),
			phase: dialogs.PhaseBirthDate, prompts: ids("right_party_confirmed", "birth_date_again"),
			check: func(t *testing.T, w *world, st dialogs.State, r dialogs.Reply) {
				if !st.RightParty || st.PendingCase != goodCase || st.Verified {
					t.Errorf("state = %+v", st)
				}
				noVerify(t, w, st, r)
			}},
		{name: "1 without a target: the case number is asked", target: "-", from: toRightParty, ev: keys("1"),
			phase: dialogs.PhaseCaseNumber, prompts: ids("right_party_confirmed", "ask_case_number"), check: noVerify},
		{name: "spoken yes: right party", from: toRightParty, ev: intent(dialogs.IntentYes),
			phase: dialogs.PhaseBirthDate, prompts: ids("right_party_confirmed", "birth_date_again")},
		{name: "2: wrong party, goodbye", from: toRightParty, ev: keys("2"),
			phase: dialogs.PhaseEnded, prompts: ids("wrong_party", "goodbye"), action: hang(dialogs.ReasonWrongParty),
			outcome: dialogs.OutcomeWrongParty, check: noVerify},
		{name: "spoken no: wrong party", from: toRightParty, ev: intent(dialogs.IntentNo),
			phase: dialogs.PhaseEnded, prompts: ids("wrong_party", "goodbye"), action: hang(dialogs.ReasonWrongParty),
			outcome: dialogs.OutcomeWrongParty},
		{name: "3: person absent, goodbye", from: toRightParty, ev: keys("3"),
			phase: dialogs.PhaseEnded, prompts: ids("party_absent", "goodbye"), action: hang(dialogs.ReasonPartyAbsent),
			outcome: dialogs.OutcomeNoAnswer},
		{name: "silence once: asked again", from: toRightParty, ev: timeout(),
			phase: dialogs.PhaseRightParty, prompts: ids("not_heard", "right_party_again"), check: wantReprompts(1)},
		{name: "silence twice: voicemail, goodbye", from: path(toRightParty, times(timeout(), 1)), ev: timeout(),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang(dialogs.ReasonNoInput),
			outcome: dialogs.OutcomeNoAnswer},
		{name: "bad key: asked again", from: toRightParty, ev: keys("5"),
			phase: dialogs.PhaseRightParty, prompts: ids("invalid_choice", "right_party_again")},
		{name: "bad keys until the end", from: path(toRightParty, times(keys("5"), 3)), ev: keys("7"),
			phase: dialogs.PhaseEnded, prompts: ids("invalid_choice", "goodbye"), action: hang(dialogs.ReasonNoInput),
			outcome: dialogs.OutcomeNoAnswer},
		{name: "menu keys before the answer do nothing", from: toRightParty, ev: intent(dialogs.IntentDebt),
			phase: dialogs.PhaseRightParty, prompts: ids("not_understood", "right_party_again")},
		{name: "consultant before the answer is not transferred", from: toRightParty, ev: intent(dialogs.IntentConsultant),
			phase: dialogs.PhaseRightParty, prompts: ids("not_understood", "right_party_again")},
		{name: "9 repeats the question", from: toRightParty, ev: keys("9"),
			phase: dialogs.PhaseRightParty, prompts: ids("outbound_purpose", "right_party_ask")},
		{name: "goodbye before the answer", from: toRightParty, ev: intent(dialogs.IntentGoodbye),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang(dialogs.ReasonCallerDone),
			outcome: dialogs.OutcomeNoAnswer},
		{name: "hangup before the answer", from: toRightParty, ev: hangup(),
			phase: dialogs.PhaseEnded, action: hang(dialogs.ReasonCallerHangup), outcome: dialogs.OutcomeNoAnswer},
		{name: "right party, date matches: verified menu", from: toOutBirthDate, ev: keys(goodBirth),
			phase: dialogs.PhaseMenu, prompts: ids("verified", "menu"),
			check: func(t *testing.T, w *world, st dialogs.State, _ dialogs.Reply) {
				if !st.Verified || st.CaseNumber != goodCase || !slices.Equal(w.verified, []string{goodCase + "/" + goodBirth}) {
					t.Errorf("state %+v, Verify calls %v", st, w.verified)
				}
			}},
		{name: "right party, wrong date: only the date asked again", from: toOutBirthDate, ev: keys("02021980"),
			phase: dialogs.PhaseBirthDate, prompts: ids("verify_rejected", "birth_date_again"),
			check: func(t *testing.T, _ *world, st dialogs.State, _ dialogs.Reply) {
				if st.Verified || st.PendingCase != goodCase || st.Attempts != 1 {
					t.Errorf("state = %+v", st)
				}
			}},
		{name: "right party, locked target", target: lockedCase, from: toOutBirthDate, ev: keys(goodBirth),
			phase: dialogs.PhaseEnded, prompts: ids("case_locked", "transfer"), action: transfer(dialogs.ReasonCaseLocked),
			outcome: dialogs.OutcomeRightParty},
		{name: "verified menu 1 tells the debt", from: toOutMenu, ev: keys("1"),
			phase: dialogs.PhaseMenu, prompts: ids(debtIDs, moreIDs), kinds: debtKinds},
		{name: "verified then goodbye: right party", from: toOutMenu, ev: intent(dialogs.IntentGoodbye),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang(dialogs.ReasonCallerDone),
			outcome: dialogs.OutcomeRightParty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			f := newFlow(t, tt.cfg, w)
			target := tt.target
			switch target {
			case "":
				target = goodCase
			case "-":
				target = ""
			}
			st := walkOutbound(t, f, target, tt.from...)
			w.verified = nil
			r, err := step(f, &st, tt.ev)
			if err != nil {
				t.Fatalf("Step: %v", err)
			}
			if st.Phase != tt.phase {
				t.Errorf("phase = %q, want %q", st.Phase, tt.phase)
			}
			if got := promptIDs(r); !slices.Equal(got, tt.prompts) {
				t.Errorf("prompts =\n  %q\nwant\n  %q", got, tt.prompts)
			}
			if r.Action != tt.action {
				t.Errorf("action = %+v, want %+v", r.Action, tt.action)
			}
			if got := disclosed(r); !slices.Equal(got, tt.kinds) {
				t.Errorf("disclosures = %v, want %v", got, tt.kinds)
			}
			if !st.Verified && (len(caseSegments(r)) > 0 || r.Callback != nil) {
				t.Errorf("case data before verification: %+v", r)
			}
			if tt.outcome != "" {
				if got := dialogs.Outcome(st, r.Action); got != tt.outcome {
					t.Errorf("Outcome = %q, want %q", got, tt.outcome)
				}
			}
			if tt.check != nil {
				tt.check(t, w, st, r)
			}
		})
	}
}

// TestOutboundRestoredState: a state restored without its pending number
// verifies against the target once the right party confirmed, and a
// state that never confirmed cannot reach verification at all.
func TestOutboundRestoredState(t *testing.T) {
	w := newWorld()
	f := newFlow(t, dialogs.Config{}, w)
	st := walkOutbound(t, f, goodCase, toOutBirthDate...)
	st.PendingCase = ""
	if _, err := step(f, &st, keys(goodBirth)); err != nil {
		t.Fatal(err)
	}
	if !st.Verified || st.CaseNumber != goodCase {
		t.Errorf("restored state not verified: %+v", st)
	}

	forged := dialogs.NewOutbound(goodCase)
	forged.Phase = dialogs.PhaseBirthDate // no RightParty, no PendingCase
	w.verified = nil
	r, err := step(f, &forged, speech(dialogs.Intent{Kind: dialogs.IntentDigits, Digits: goodBirth}))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.verified) != 0 || forged.Verified || forged.Phase != dialogs.PhaseRightParty {
		t.Errorf("unconfirmed state verified: %+v (Verify calls %v, prompts %v)", forged, w.verified, promptIDs(r))
	}
}
