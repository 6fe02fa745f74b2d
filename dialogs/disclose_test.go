package dialogs_test

import (
	"errors"
	"testing"
	"time"

	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

// TestDiscloseGate feeds the flow states that a bug or a tampered session
// could produce (a menu without verification, a verified flag without a
// case, case data waiting to be repeated) and checks that no case data
// comes out and no dependency is asked for it.
func TestDiscloseGate(t *testing.T) {
	menu := dialogs.State{Phase: dialogs.PhaseMenu, CaseNumber: goodCase}
	tests := []struct {
		name  string
		st    dialogs.State
		ev    event
		setup func(*world)
		asked int // calls to the case store, slots and booking
	}{
		{"menu 1 unverified", menu, speech(dialogs.Intent{Kind: dialogs.IntentDebt}), nil, 0},
		{"menu 2 unverified", menu, speech(dialogs.Intent{Kind: dialogs.IntentPayments}), nil, 0},
		{"menu 3 unverified", menu, speech(dialogs.Intent{Kind: dialogs.IntentCallback}), nil, 0},
		{"spoken slot unverified", menu, speech(dialogs.Intent{Kind: dialogs.IntentSlot, When: freeSlots[0]}), nil, 0},
		{"verified without a case", dialogs.State{Phase: dialogs.PhaseMenu, Verified: true},
			speech(dialogs.Intent{Kind: dialogs.IntentDebt}), nil, 0},
		{"pick unverified", dialogs.State{Phase: dialogs.PhaseCallbackPick, CaseNumber: goodCase, Slots: freeSlots[:2]},
			speech(dialogs.Intent{Kind: dialogs.IntentChoice, Choice: 1}), nil, 0},
		{"repeat of case data unverified",
			dialogs.State{Phase: dialogs.PhaseCaseNumber, LastSay: []say.Utterance{say.New(say.Prompt("debt_balance"), say.Amount(100))}},
			speech(dialogs.Intent{Kind: dialogs.IntentRepeat}), nil, 0},
		{"repeat of disclosures unverified",
			dialogs.State{Phase: dialogs.PhaseFailed, LastSay: []say.Utterance{say.New(say.Prompt("debt_balance"))},
				LastDisclosed: []dialogs.DisclosureKind{dialogs.DiscloseBalance}},
			speech(dialogs.Intent{Kind: dialogs.IntentRepeat}), nil, 0},
		{"store answers with another case", dialogs.State{Phase: dialogs.PhaseMenu, Verified: true, CaseNumber: goodCase},
			speech(dialogs.Intent{Kind: dialogs.IntentDebt}),
			func(w *world) {
				w.findCase = func(string) (dialogs.Case, error) { c := goodCaseData(); c.Number = lockedCase; return c, nil }
			}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			if tt.setup != nil {
				tt.setup(w)
			}
			asked := 0
			find, book, slots := w.findCase, w.book, w.slots
			w.findCase = func(n string) (dialogs.Case, error) { asked++; return find(n) }
			w.book = func(n string, at time.Time) error { asked++; return book(n, at) }
			w.slots = func(now time.Time, n int) ([]time.Time, error) { asked++; return slots(now, n) }
			f := newFlow(t, dialogs.Config{}, w)
			st := tt.st
			r, err := step(f, &st, tt.ev)
			if !errors.Is(err, dialogs.ErrNotVerified) {
				t.Fatalf("err = %v, reply %+v; want ErrNotVerified", err, r)
			}
			if asked != tt.asked {
				t.Errorf("case store, slots or booking asked %d times, want %d", asked, tt.asked)
			}
			if len(w.booked) != 0 {
				t.Errorf("booked %v", w.booked)
			}
		})
	}
}
