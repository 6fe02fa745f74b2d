package dialogs_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"hotline/dialogs"
)

// TestStepErrors checks that dependency failures come back as errors and
// leave the state as it was, and that the end is final.
func TestStepErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		setup func(*world)
		from  []event
		ev    event
		want  error
	}{
		{"verifier", func(w *world) { w.verify = func(string, string) (dialogs.Verdict, error) { return 0, boom } },
			toBirthDate, keys(goodBirth), boom},
		{"unknown verdict", func(w *world) { w.verify = func(string, string) (dialogs.Verdict, error) { return 7, nil } },
			toBirthDate, keys(goodBirth), nil},
		{"case store", func(w *world) { w.findCase = func(string) (dialogs.Case, error) { return dialogs.Case{}, boom } },
			toMenu, keys("1"), boom},
		{"slots", func(w *world) { w.slots = func(time.Time, int) ([]time.Time, error) { return nil, boom } },
			toMenu, keys("3"), boom},
		{"book", func(w *world) { w.book = func(string, time.Time) error { return boom } },
			toPick, keys("1"), boom},
		{"after the end", nil, path(toMenu, []event{hangup()}), keys("1"), dialogs.ErrEnded},
		{"second start", nil, toMenu, start(), dialogs.ErrBadInput},
		{"unknown input kind", nil, toMenu, event{in: dialogs.Input{Kind: dialogs.InputUnknown}}, dialogs.ErrBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			f := newFlow(t, dialogs.Config{}, w)
			st := walk(t, f, tt.from...)
			if tt.setup != nil {
				tt.setup(w)
			}
			before := st
			_, err := step(f, &st, tt.ev)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(st, before) {
				t.Errorf("state changed on error:\n got %+v\nwant %+v", st, before)
			}
		})
	}
	if _, err := newFlow(t, dialogs.Config{}, newWorld()).Step(t.Context(), callID, nil, dialogs.Input{Kind: dialogs.InputStart}, dialogs.Intent{}); !errors.Is(err, dialogs.ErrBadInput) {
		t.Errorf("nil state: err = %v", err)
	}
}

// TestStepRejectedAnswerIsUniform: a wrong date and an unknown case number
// give the caller exactly the same reply.
func TestStepRejectedAnswerIsUniform(t *testing.T) {
	f := newFlow(t, dialogs.Config{}, newWorld())
	reply := func(number, date string) dialogs.Reply {
		st := walk(t, f, start(), keys(number+"#"))
		r, err := step(f, &st, keys(date))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	wrongDate, noCase := reply(goodCase, "02021980"), reply("55555555", goodBirth)
	if !reflect.DeepEqual(wrongDate, noCase) {
		t.Errorf("replies differ:\n%+v\n%+v", wrongDate, noCase)
	}
}

// TestBirthDateWithoutNumber: a stored state that lost its pending case
// number asks for the number again instead of verifying nothing.
func TestBirthDateWithoutNumber(t *testing.T) {
	w := newWorld()
	f := newFlow(t, dialogs.Config{}, w)
	st := dialogs.State{Phase: dialogs.PhaseBirthDate}
	r, err := step(f, &st, speech(dialogs.Intent{Kind: dialogs.IntentDigits, Digits: goodBirth}))
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != dialogs.PhaseCaseNumber || len(w.verified) != 0 || !slices.Equal(promptIDs(r), []string{"case_number_again"}) {
		t.Errorf("phase %q, Verify calls %v, prompts %v", st.Phase, w.verified, promptIDs(r))
	}
}

// A transfer that reaches no consultant reopens the conversation: a
// verified caller is offered a callback, an unverified one is told when
// consultants work. Only that input reopens an ended conversation.
func TestTransferFailedReopens(t *testing.T) {
	for _, verified := range []bool{true, false} {
		w := newWorld()
		w.available = func(time.Time) bool { return true }
		f := newFlow(t, dialogs.Config{}, w)
		var st dialogs.State
		events := []event{start()}
		if verified {
			events = append(events, keys(goodCase+"#"), keys(goodBirth))
		}
		events = append(events, speech(dialogs.Intent{Kind: dialogs.IntentConsultant}))
		var r dialogs.Reply
		var err error
		for _, ev := range events {
			if r, err = step(f, &st, ev); err != nil {
				t.Fatal(err)
			}
		}
		if r.Action.Kind != dialogs.ActionTransfer || st.Phase != dialogs.PhaseEnded || st.TransferReason == "" {
			t.Fatalf("verified=%v: want a pending transfer, got %+v %+v", verified, r.Action, st)
		}
		if _, err := step(f, &st, keys("1")); err != dialogs.ErrEnded {
			t.Fatalf("keys during a transfer: %v", err)
		}
		r, err = step(f, &st, event{in: dialogs.Input{Kind: dialogs.InputTransferFailed}})
		if err != nil {
			t.Fatal(err)
		}
		ids := promptIDs(r)
		if len(ids) == 0 || ids[0] != "transfer_failed" || st.TransferReason != "" {
			t.Fatalf("verified=%v: said %v", verified, ids)
		}
		if verified && st.Phase != dialogs.PhaseCallbackPick {
			t.Fatalf("verified caller not offered a callback: phase %q, said %v", st.Phase, ids)
		}
		if !verified && (r.Action.Kind != dialogs.ActionHangup || r.Action.Reason != dialogs.ReasonTransferFail) {
			t.Fatalf("unverified caller: %+v", r.Action)
		}
		if _, err := step(f, &st, event{in: dialogs.Input{Kind: dialogs.InputTransferFailed}}); verified && !errors.Is(err, dialogs.ErrBadInput) || !verified && err != dialogs.ErrEnded {
			t.Fatalf("verified=%v: second transfer failure: %v", verified, err)
		}
	}
}
