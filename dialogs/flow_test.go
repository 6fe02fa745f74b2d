package dialogs_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

// Prompt sequences the rows share.
var (
	complaintsIDs = []string{"complaints_how", "complaints_deadline", "complaints_channel", "complaints_bodies"}
	offerIDs      = []string{"callback_offer", "slot_option", "at_hour", "slot_option", "at_hour", "slot_option", "at_hour", "slot_choose"}
	moreIDs       = []string{"anything_else", "menu_short"}
	debtIDs       = []string{"debt_balance", "debt_principal", "debt_interest", "debt_fees", "debt_creditor"}
	debtKinds     = []dialogs.DisclosureKind{dialogs.DiscloseBalance, dialogs.DisclosePrincipal,
		dialogs.DiscloseInterest, dialogs.DiscloseFees, dialogs.DiscloseCreditor}
	payKinds = []dialogs.DisclosureKind{dialogs.DiscloseAccount, dialogs.DiscloseLastPayment, dialogs.DiscloseNextInstallment}
)

func ids(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

func times(ev event, n int) []event {
	out := make([]event, n)
	for i := range out {
		out[i] = ev
	}
	return out
}

func path(parts ...[]event) []event {
	var out []event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var (
	unavailable = func(w *world) { w.available = func(time.Time) bool { return false } }
	noSlots     = func(w *world) { w.slots = func(time.Time, int) ([]time.Time, error) { return nil, nil } }
	hangupNone  = dialogs.Action{}
)

func hang(reason string) dialogs.Action {
	return dialogs.Action{Kind: dialogs.ActionHangup, Reason: reason}
}

func transfer(reason string) dialogs.Action {
	return dialogs.Action{Kind: dialogs.ActionTransfer, Reason: reason}
}

// TestStep drives every phase and transition: each row walks a path to its
// start state, applies one event and checks the phase, the prompts in
// order, the action and the disclosures.
func TestStep(t *testing.T) {
	speechCfg := dialogs.Config{SpeechInput: true}
	tests := []struct {
		name    string
		cfg     dialogs.Config
		setup   func(*world) // before the walk to the start state
		from    []event
		ev      event
		phase   dialogs.Phase
		prompts []string
		action  dialogs.Action
		kinds   []dialogs.DisclosureKind
		check   func(t *testing.T, w *world, st dialogs.State, r dialogs.Reply)
	}{
		// Start.
		{name: "start greets, gives the notices, asks the case number", ev: start(),
			phase: dialogs.PhaseCaseNumber, prompts: ids("greeting", "notice_ai", "notice_recording", "ask_case_number"),
			check: func(t *testing.T, _ *world, st dialogs.State, r dialogs.Reply) {
				barge := []bool{r.Say[0].NoBargeIn, r.Say[1].NoBargeIn, r.Say[2].NoBargeIn, r.Say[3].NoBargeIn}
				if !slices.Equal(barge, []bool{false, true, true, false}) {
					t.Errorf("NoBargeIn = %v, want only the notices", barge)
				}
				want := dialogs.Expect{Kind: dialogs.ExpectCaseNumber, MaxDigits: 13, Finish: "#", Timeout: 8 * time.Second}
				if r.Expect != want || st.Expect() != want {
					t.Errorf("Expect = %+v / %+v, want %+v", r.Expect, st.Expect(), want)
				}
			}},
		{name: "start with speech invites speaking", cfg: speechCfg, ev: start(),
			phase: dialogs.PhaseCaseNumber, prompts: ids("greeting", "notice_ai", "notice_recording", "ask_case_number_speech")},
		{name: "keys before the start still get the greeting", ev: keys("1"),
			phase: dialogs.PhaseCaseNumber, prompts: ids("greeting", "notice_ai", "notice_recording", "ask_case_number")},

		// Case number.
		{name: "case number with #", from: toCaseNumber, ev: keys(goodCase + "#"),
			phase: dialogs.PhaseBirthDate, prompts: ids("ask_birth_date"),
			check: func(t *testing.T, _ *world, st dialogs.State, r dialogs.Reply) {
				want := dialogs.Expect{Kind: dialogs.ExpectBirthDate, MaxDigits: 8, Finish: "#", Timeout: 8 * time.Second}
				if r.Expect != want {
					t.Errorf("Expect = %+v, want %+v", r.Expect, want)
				}
				if st.PendingCase != goodCase || st.Verified || st.CaseNumber != "" {
					t.Errorf("state = %+v", st)
				}
			}},
		{name: "case number without #", from: toCaseNumber, ev: keys(goodCase),
			phase: dialogs.PhaseBirthDate, prompts: ids("ask_birth_date")},
		{name: "spoken case number", cfg: speechCfg, from: toCaseNumber, ev: speech(dialogs.Intent{Kind: dialogs.IntentDigits, Digits: goodCase}),
			phase: dialogs.PhaseBirthDate, prompts: ids("ask_birth_date_speech")},
		{name: "case number too short", from: toCaseNumber, ev: keys("12345#"),
			phase: dialogs.PhaseCaseNumber, prompts: ids("invalid_case_number", "case_number_again"),
			check: wantReprompts(1)},
		{name: "case number too long", from: toCaseNumber, ev: keys("1234567890123#"),
			phase: dialogs.PhaseCaseNumber, prompts: ids("invalid_case_number", "case_number_again")},
		{name: "star starts the entry over", from: toCaseNumber, ev: keys("123*"),
			phase: dialogs.PhaseCaseNumber, prompts: ids("invalid_case_number", "case_number_again")},
		{name: "spoken digits that are no number", from: toCaseNumber, ev: speech(dialogs.Intent{Kind: dialogs.IntentDigits, Digits: "12a456"}),
			phase: dialogs.PhaseCaseNumber, prompts: ids("invalid_case_number", "case_number_again")},
		{name: "speech not understood", from: toCaseNumber, ev: intent(dialogs.IntentUnknown),
			phase: dialogs.PhaseCaseNumber, prompts: ids("not_understood", "case_number_again")},
		{name: "timeout re-asks", from: toCaseNumber, ev: timeout(),
			phase: dialogs.PhaseCaseNumber, prompts: ids("not_heard", "case_number_again"), check: wantReprompts(1)},
		{name: "timeout ignores a stray intent", from: toCaseNumber,
			ev:    event{in: dialogs.Input{Kind: dialogs.InputTimeout}, it: dialogs.Intent{Kind: dialogs.IntentDigits, Digits: goodCase}},
			phase: dialogs.PhaseCaseNumber, prompts: ids("not_heard", "case_number_again")},
		{name: "silence after the re-prompts: failed", from: path(toCaseNumber, times(timeout(), 3)), ev: timeout(),
			phase: dialogs.PhaseFailed, prompts: ids("not_heard", "verify_unfinished", "failed_options"), check: wantReprompts(0)},
		{name: "silence after the re-prompts, no consultant: goodbye", setup: unavailable,
			from: path(toCaseNumber, times(timeout(), 3)), ev: timeout(),
			phase: dialogs.PhaseEnded, prompts: ids("not_heard", "verify_unfinished", "consultants_unavailable", "contact_info", "goodbye"),
			action: hang("no_input")},
		{name: "a valid answer resets the re-prompts", from: path(toCaseNumber, times(timeout(), 3)), ev: keys(goodCase + "#"),
			phase: dialogs.PhaseBirthDate, prompts: ids("ask_birth_date"), check: wantReprompts(0)},
		{name: "consultant before verification", from: toCaseNumber, ev: intent(dialogs.IntentConsultant),
			phase: dialogs.PhaseEnded, prompts: ids("transfer"), action: transfer("caller_request")},
		{name: "consultant before verification, none free", setup: unavailable, from: path(toCaseNumber, times(timeout(), 2)),
			ev: intent(dialogs.IntentConsultant), phase: dialogs.PhaseCaseNumber,
			prompts: ids("consultants_unavailable", "case_number_again"), check: wantReprompts(2)},
		{name: "goodbye before verification", from: toCaseNumber, ev: intent(dialogs.IntentGoodbye),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang("caller_done")},
		{name: "complaints before verification", from: toCaseNumber, ev: intent(dialogs.IntentComplaints),
			phase: dialogs.PhaseCaseNumber, prompts: ids(complaintsIDs, "case_number_again")},
		{name: "repeat the question", from: toCaseNumber, ev: intent(dialogs.IntentRepeat),
			phase: dialogs.PhaseCaseNumber, prompts: ids("ask_case_number")},
		{name: "repeat after a re-prompt leaves out the cause", from: path(toCaseNumber, []event{timeout()}), ev: intent(dialogs.IntentRepeat),
			phase: dialogs.PhaseCaseNumber, prompts: ids("case_number_again"), check: wantReprompts(1)},
		{name: "hangup", from: toCaseNumber, ev: hangup(),
			phase: dialogs.PhaseEnded, action: hang("caller_hangup"),
			check: func(t *testing.T, _ *world, st dialogs.State, r dialogs.Reply) {
				if len(r.Say) != 0 || r.Expect != (dialogs.Expect{}) {
					t.Errorf("hangup reply = %+v", r)
				}
			}},

		// Date of birth.
		{name: "right date verifies", from: toBirthDate, ev: keys(goodBirth),
			phase: dialogs.PhaseMenu, prompts: ids("verified", "menu"),
			check: func(t *testing.T, w *world, st dialogs.State, r dialogs.Reply) {
				if !st.Verified || st.CaseNumber != goodCase || st.PendingCase != "" {
					t.Errorf("state = %+v", st)
				}
				if !slices.Equal(w.verified, []string{goodCase + "/" + goodBirth}) {
					t.Errorf("Verify calls = %v", w.verified)
				}
				if want := (dialogs.Expect{Kind: dialogs.ExpectMenu, MaxDigits: 1, Timeout: 8 * time.Second}); r.Expect != want {
					t.Errorf("Expect = %+v, want %+v", r.Expect, want)
				}
			}},
		{name: "right date with #", from: toBirthDate, ev: keys(goodBirth + "#"),
			phase: dialogs.PhaseMenu, prompts: ids("verified", "menu")},
		{name: "spoken date verifies", cfg: speechCfg, from: toBirthDate, ev: speech(dialogs.Intent{Kind: dialogs.IntentDate, Date: goodBirthDate}),
			phase: dialogs.PhaseMenu, prompts: ids("verified", "menu_speech")},
		{name: "wrong date: one answer, back to the case number", from: toBirthDate, ev: keys("02021980"),
			phase: dialogs.PhaseCaseNumber, prompts: ids("verify_rejected", "case_number_again"),
			check: func(t *testing.T, w *world, st dialogs.State, _ dialogs.Reply) {
				if st.Attempts != 1 || st.Verified || st.PendingCase != "" {
					t.Errorf("state = %+v", st)
				}
			}},
		{name: "unknown case: the same answer", from: path(toCaseNumber, []event{keys("99999999#")}), ev: keys(goodBirth),
			phase: dialogs.PhaseCaseNumber, prompts: ids("verify_rejected", "case_number_again")},
		{name: "no such day", from: toBirthDate, ev: keys("30021980"),
			phase: dialogs.PhaseBirthDate, prompts: ids("invalid_birth_date", "birth_date_again"), check: noVerify},
		{name: "a date in the future", from: toBirthDate, ev: keys("01012030"),
			phase: dialogs.PhaseBirthDate, prompts: ids("invalid_birth_date", "birth_date_again"), check: noVerify},
		{name: "a year before 1900", from: toBirthDate, ev: keys("01011899"),
			phase: dialogs.PhaseBirthDate, prompts: ids("invalid_birth_date", "birth_date_again"), check: noVerify},
		{name: "seven digits", from: toBirthDate, ev: keys("0102198#"),
			phase: dialogs.PhaseBirthDate, prompts: ids("invalid_birth_date", "birth_date_again"), check: noVerify},
		{name: "zero spoken date", from: toBirthDate, ev: speech(dialogs.Intent{Kind: dialogs.IntentDate}),
			phase: dialogs.PhaseBirthDate, prompts: ids("invalid_birth_date", "birth_date_again"), check: noVerify},
		{name: "third rejection: failed", from: path(toFailed[:6]), ev: keys(goodBirth),
			phase: dialogs.PhaseFailed, prompts: ids("verify_failed", "failed_options"),
			check: func(t *testing.T, _ *world, st dialogs.State, r dialogs.Reply) {
				if st.Attempts != 3 {
					t.Errorf("Attempts = %d", st.Attempts)
				}
				if want := (dialogs.Expect{Kind: dialogs.ExpectChoice, MaxDigits: 1, Options: 2, Timeout: 8 * time.Second}); r.Expect != want {
					t.Errorf("Expect = %+v, want %+v", r.Expect, want)
				}
			}},
		{name: "third rejection, no consultant: goodbye", setup: unavailable, from: path(toFailed[:6]), ev: keys(goodBirth),
			phase: dialogs.PhaseEnded, prompts: ids("verify_failed", "consultants_unavailable", "contact_info", "goodbye"),
			action: hang("not_verified")},
		{name: "the right pair after two rejections", from: path(toFailed[:5], []event{keys(goodCase + "#")}), ev: keys(goodBirth),
			phase: dialogs.PhaseMenu, prompts: ids("verified", "menu")},
		{name: "locked case goes to a consultant, unverified",
			from: path(toCaseNumber, []event{keys(lockedCase + "#")}), ev: keys(goodBirth),
			phase: dialogs.PhaseEnded, prompts: ids("case_locked", "transfer"), action: transfer("case_locked"),
			check: func(t *testing.T, _ *world, st dialogs.State, _ dialogs.Reply) {
				if st.Verified || st.CaseNumber != "" {
					t.Errorf("locked case verified: %+v", st)
				}
			}},
		{name: "locked case, no consultant", setup: unavailable,
			from: path(toCaseNumber, []event{keys(lockedCase + "#")}), ev: keys(goodBirth),
			phase: dialogs.PhaseEnded, prompts: ids("case_locked", "consultants_unavailable", "contact_info", "goodbye"),
			action: hang("case_locked")},
		{name: "repeat the date question", from: toBirthDate, ev: keys("*"),
			phase: dialogs.PhaseBirthDate, prompts: ids("invalid_birth_date", "birth_date_again")},

		// After a failed verification.
		{name: "failed: 1 is a consultant", from: toFailed, ev: keys("1"),
			phase: dialogs.PhaseEnded, prompts: ids("transfer"), action: transfer("not_verified")},
		{name: "failed: spoken consultant", from: toFailed, ev: intent(dialogs.IntentConsultant),
			phase: dialogs.PhaseEnded, prompts: ids("transfer"), action: transfer("not_verified")},
		{name: "failed: 2 ends", from: toFailed, ev: keys("2"),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang("caller_done")},
		{name: "failed: consultant gone meanwhile", from: toFailed, ev: keys("1"),
			setup: func(w *world) {
				calls := 0
				w.available = func(time.Time) bool { calls++; return calls == 1 }
			},
			phase: dialogs.PhaseEnded, prompts: ids("consultants_unavailable", "contact_info", "goodbye"), action: hang("not_verified")},
		{name: "failed: other key", from: toFailed, ev: keys("5"),
			phase: dialogs.PhaseFailed, prompts: ids("invalid_choice", "failed_options")},
		{name: "failed: silence ends", from: path(toFailed, times(timeout(), 3)), ev: timeout(),
			phase: dialogs.PhaseEnded, prompts: ids("not_heard", "goodbye"), action: hang("no_input")},
		{name: "failed: complaints", from: toFailed, ev: intent(dialogs.IntentComplaints),
			phase: dialogs.PhaseFailed, prompts: ids(complaintsIDs, "failed_options")},

		// Menu.
		{name: "menu 1: the debt", from: toMenu, ev: keys("1"),
			phase: dialogs.PhaseMenu, prompts: ids(debtIDs, moreIDs), kinds: debtKinds,
			check: func(t *testing.T, _ *world, _ dialogs.State, r dialogs.Reply) {
				c := goodCaseData()
				want := []say.Segment{say.Amount(c.Balance()), say.Amount(c.Principal), say.Amount(c.Interest),
					say.Amount(c.Fees), say.Text(c.Creditor)}
				if got := caseSegments(r); !reflect.DeepEqual(got, want) {
					t.Errorf("values = %+v, want %+v", got, want)
				}
				for _, d := range r.Disclosures {
					if d.CaseNumber != goodCase || !d.At.Equal(now) {
						t.Errorf("disclosure = %+v", d)
					}
				}
			}},
		{name: "menu 2: payments", from: toMenu, ev: keys("2"),
			phase: dialogs.PhaseMenu, prompts: ids("pay_account", "pay_title", "pay_last", "in_amount", "pay_next", "in_amount", moreIDs),
			kinds: payKinds,
			check: func(t *testing.T, _ *world, _ dialogs.State, r dialogs.Reply) {
				c := goodCaseData()
				want := []say.Segment{say.Account(c.BankAccount), say.Digits(goodCase),
					say.Date(c.LastPayment.Date), say.Amount(c.LastPayment.Amount),
					say.Date(c.NextInstallment.Date), say.Amount(c.NextInstallment.Amount)}
				if got := caseSegments(r); !reflect.DeepEqual(got, want) {
					t.Errorf("values = %+v, want %+v", got, want)
				}
			}},
		{name: "menu 2: no payments, no instalment", from: toMenu, ev: keys("2"),
			setup: func(w *world) {
				w.findCase = func(string) (dialogs.Case, error) {
					c := goodCaseData()
					c.LastPayment, c.NextInstallment = nil, nil
					return c, nil
				}
			},
			phase: dialogs.PhaseMenu, prompts: ids("pay_account", "pay_title", "pay_none", "pay_next_none", moreIDs), kinds: payKinds},
		{name: "menu 1: case gone", from: toMenu, ev: keys("1"),
			setup: func(w *world) {
				w.findCase = func(string) (dialogs.Case, error) { return dialogs.Case{}, dialogs.ErrCaseNotFound }
			},
			phase: dialogs.PhaseMenu, prompts: ids("info_unavailable", moreIDs)},
		{name: "menu 3: slots offered", from: toMenu, ev: keys("3"),
			phase: dialogs.PhaseCallbackPick, prompts: offerIDs,
			check: func(t *testing.T, _ *world, st dialogs.State, r dialogs.Reply) {
				if want := (dialogs.Expect{Kind: dialogs.ExpectSlot, MaxDigits: 1, Options: 3, Timeout: 8 * time.Second}); r.Expect != want {
					t.Errorf("Expect = %+v, want %+v", r.Expect, want)
				}
				want := []say.Segment{say.Prompt("slot_option"), say.Number(2), say.Date(freeSlots[1]), say.Prompt("at_hour"), say.Time(freeSlots[1])}
				if got := r.Say[2].Segments; !reflect.DeepEqual(got, want) {
					t.Errorf("second slot = %+v, want %+v", got, want)
				}
				if !slices.Equal(st.Slots, freeSlots[:3]) {
					t.Errorf("Slots = %v", st.Slots)
				}
			}},
		{name: "menu 3: no slots", setup: noSlots, from: toMenu, ev: keys("3"),
			phase: dialogs.PhaseMenu, prompts: ids("no_slots", moreIDs)},
		{name: "menu 3 with fewer slots configured", cfg: dialogs.Config{CallbackSlots: 1}, from: toMenu, ev: keys("3"),
			phase: dialogs.PhaseCallbackPick, prompts: ids("callback_offer", "slot_option", "at_hour", "slot_choose")},
		{name: "menu 0: consultant", from: toMenu, ev: keys("0"),
			phase: dialogs.PhaseEnded, prompts: ids("transfer"), action: transfer("caller_request")},
		{name: "menu 0, none free: a callback", setup: unavailable, from: toMenu, ev: keys("0"),
			phase: dialogs.PhaseCallbackPick, prompts: ids("consultants_unavailable", offerIDs)},
		{name: "menu 0, none free, no slots: the menu", setup: func(w *world) { unavailable(w); noSlots(w) }, from: toMenu, ev: keys("0"),
			phase: dialogs.PhaseMenu, prompts: ids("consultants_unavailable", "no_slots", moreIDs)},
		{name: "menu 4: complaints", from: toMenu, ev: keys("4"),
			phase: dialogs.PhaseMenu, prompts: ids(complaintsIDs, moreIDs)},
		{name: "menu 9 repeats the debt and discloses it again", from: path(toMenu, []event{keys("1")}), ev: keys("9"),
			phase: dialogs.PhaseMenu, prompts: ids(debtIDs, moreIDs), kinds: debtKinds},
		{name: "menu 9 after a timeout repeats the menu only", from: path(toMenu, []event{keys("1"), timeout()}), ev: keys("9"),
			phase: dialogs.PhaseMenu, prompts: ids("menu")},
		{name: "spoken menu choice", from: toMenu, ev: speech(dialogs.Intent{Kind: dialogs.IntentChoice, Choice: 4}),
			phase: dialogs.PhaseMenu, prompts: ids(complaintsIDs, moreIDs)},
		{name: "menu: no such key", from: toMenu, ev: keys("7"),
			phase: dialogs.PhaseMenu, prompts: ids("invalid_choice", "menu"), check: wantReprompts(1)},
		{name: "menu: yes gets the menu", from: path(toMenu, []event{keys("4")}), ev: intent(dialogs.IntentYes),
			phase: dialogs.PhaseMenu, prompts: ids("menu")},
		{name: "menu: no ends", from: path(toMenu, []event{keys("4")}), ev: intent(dialogs.IntentNo),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang("caller_done")},
		{name: "menu: silence ends", from: path(toMenu, times(timeout(), 3)), ev: timeout(),
			phase: dialogs.PhaseEnded, prompts: ids("not_heard", "goodbye"), action: hang("no_input")},
		{name: "menu: spoken slot books it", from: toMenu, ev: speech(dialogs.Intent{Kind: dialogs.IntentSlot, When: freeSlots[3]}),
			phase: dialogs.PhaseMenu, prompts: ids("callback_booked", "at_hour", moreIDs),
			kinds: []dialogs.DisclosureKind{dialogs.DiscloseCallback}, check: wantBooked(freeSlots[3])},
		{name: "menu: spoken slot in the past", from: toMenu, ev: speech(dialogs.Intent{Kind: dialogs.IntentSlot, When: now.Add(-time.Hour)}),
			phase: dialogs.PhaseCallbackPick, prompts: ids("slot_unavailable", offerIDs)},
		{name: "menu: spoken slot taken", from: toMenu, ev: speech(dialogs.Intent{Kind: dialogs.IntentSlot, When: freeSlots[3]}),
			setup: func(w *world) { w.book = func(string, time.Time) error { return dialogs.ErrSlotUnavailable } },
			phase: dialogs.PhaseCallbackPick, prompts: ids("slot_unavailable", offerIDs)},

		// Callback slot.
		{name: "pick 2 books it", from: toPick, ev: keys("2"),
			phase: dialogs.PhaseMenu, prompts: ids("callback_booked", "at_hour", moreIDs),
			kinds: []dialogs.DisclosureKind{dialogs.DiscloseCallback}, check: wantBooked(freeSlots[1])},
		{name: "pick a spoken time", cfg: speechCfg, from: toPick, ev: speech(dialogs.Intent{Kind: dialogs.IntentSlot, When: freeSlots[3]}),
			phase: dialogs.PhaseMenu, prompts: ids("callback_booked", "at_hour", "anything_else", "menu_short_speech"),
			kinds: []dialogs.DisclosureKind{dialogs.DiscloseCallback}, check: wantBooked(freeSlots[3])},
		{name: "pick a taken slot: fresh slots", from: toPick, ev: keys("1"),
			setup: func(w *world) {
				w.book = func(_ string, at time.Time) error {
					if at.Equal(freeSlots[0]) {
						return dialogs.ErrSlotUnavailable
					}
					return nil
				}
			},
			phase: dialogs.PhaseCallbackPick, prompts: ids("slot_unavailable", offerIDs), check: wantReprompts(1)},
		{name: "pick taken slots until giving up", from: path(toPick, times(keys("1"), 3)), ev: keys("1"),
			setup: func(w *world) { w.book = func(string, time.Time) error { return dialogs.ErrSlotUnavailable } },
			phase: dialogs.PhaseMenu, prompts: ids("slot_unavailable", moreIDs)},
		{name: "pick: 0 goes back", from: toPick, ev: keys("0"),
			phase: dialogs.PhaseMenu, prompts: moreIDs},
		{name: "pick: no such option", from: toPick, ev: keys("5"),
			phase: dialogs.PhaseCallbackPick, prompts: ids("invalid_choice", offerIDs)},
		{name: "pick: 9 repeats the offer", from: toPick, ev: keys("9"),
			phase: dialogs.PhaseCallbackPick, prompts: offerIDs},
		{name: "pick: silence goes back to the menu", from: path(toPick, times(timeout(), 3)), ev: timeout(),
			phase: dialogs.PhaseMenu, prompts: ids("not_heard", moreIDs)},
		{name: "pick: change of mind to the debt", from: toPick, ev: intent(dialogs.IntentDebt),
			phase: dialogs.PhaseMenu, prompts: ids(debtIDs, moreIDs), kinds: debtKinds},
		{name: "pick: consultant", from: toPick, ev: intent(dialogs.IntentConsultant),
			phase: dialogs.PhaseEnded, prompts: ids("transfer"), action: transfer("caller_request")},
		{name: "pick: goodbye", from: toPick, ev: intent(dialogs.IntentGoodbye),
			phase: dialogs.PhaseEnded, prompts: ids("goodbye"), action: hang("caller_done")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			if tt.setup != nil {
				tt.setup(w)
			}
			f := newFlow(t, tt.cfg, w)
			st := walk(t, f, tt.from...)
			w.verified, w.booked = nil, nil
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
			if r.Expect != st.Expect() {
				t.Errorf("reply Expect %+v != state Expect %+v", r.Expect, st.Expect())
			}
			if tt.check != nil {
				tt.check(t, w, st, r)
			}
		})
	}
}

func wantReprompts(n int) func(*testing.T, *world, dialogs.State, dialogs.Reply) {
	return func(t *testing.T, _ *world, st dialogs.State, _ dialogs.Reply) {
		t.Helper()
		if st.Reprompts != n {
			t.Errorf("Reprompts = %d, want %d", st.Reprompts, n)
		}
	}
}

func noVerify(t *testing.T, w *world, _ dialogs.State, _ dialogs.Reply) {
	t.Helper()
	if len(w.verified) != 0 {
		t.Errorf("Verify called with %v", w.verified)
	}
}

func wantBooked(at time.Time) func(*testing.T, *world, dialogs.State, dialogs.Reply) {
	return func(t *testing.T, w *world, st dialogs.State, r dialogs.Reply) {
		t.Helper()
		if !slices.EqualFunc(w.booked, []time.Time{at}, time.Time.Equal) {
			t.Errorf("booked = %v, want %v", w.booked, at)
		}
		if r.Callback == nil || r.Callback.CaseNumber != goodCase || !r.Callback.At.Equal(at) {
			t.Errorf("Callback = %+v", r.Callback)
		}
		if len(st.Slots) != 0 {
			t.Errorf("slots kept after booking: %v", st.Slots)
		}
	}
}
