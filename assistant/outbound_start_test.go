package assistant_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hotline/assistant"
	"hotline/assistant/redistest"
	"hotline/dialogs"
)

// TestStartOutbound: an outbound call starts with the right-party check,
// knows its case without treating it as verified, and reports its outcome.
func TestStartOutbound(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	r := newRig(t, rdb, prefix, tuesday10, nil)
	ctx := context.Background()
	const number = "12345678"

	tests := []struct {
		name    string
		target  string // default number
		inputs  []dialogs.Input
		outcome string
		said    []string // substrings of the last turn's lines
	}{
		{"wrong party", "", []dialogs.Input{keys("2")}, dialogs.OutcomeWrongParty, []string{"Przepraszamy za kłopot."}},
		{"absent", "", []dialogs.Input{keys("3")}, dialogs.OutcomeNoAnswer, []string{"innym terminie"}},
		{"voicemail", "", []dialogs.Input{{Kind: dialogs.InputTimeout}, {Kind: dialogs.InputTimeout}}, dialogs.OutcomeNoAnswer, []string{"Do widzenia."}},
		{"right party hears the debt", "", []dialogs.Input{keys("1"), keys("02011980"), keys("1"), speech("do widzenia")},
			dialogs.OutcomeRightParty, nil},
		{"spoken yes", "", []dialogs.Input{speech("tak, to ja"), speech("drugiego stycznia tysiąc dziewięćset osiemdziesiątego roku"), keys("1"), speech("do widzenia")},
			dialogs.OutcomeRightParty, nil},
		{"spoken no", "", []dialogs.Input{speech("nie, to pomyłka")}, dialogs.OutcomeWrongParty, []string{"Przepraszamy za kłopot."}},
		{"callback without a case number", "-", []dialogs.Input{keys("1"), keys(number + "#"), keys("02011980"), keys("1"), speech("do widzenia")},
			dialogs.OutcomeRightParty, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := "out-" + strings.ReplaceAll(tt.name, " ", "-")
			target := number
			if tt.target == "-" {
				target = ""
			}
			open, err := r.eng.StartOutbound(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "sip"}, target)
			if err != nil {
				t.Fatal(err)
			}
			if open.Reply.Expect.Kind != dialogs.ExpectChoice || open.Ended {
				t.Fatalf("opening expects %+v", open.Reply.Expect)
			}
			text := strings.Join(open.Lines, "\n")
			if !strings.Contains(text, "Czy rozmawiam z osobą, do której dzwonimy?") || strings.Contains(text, number) {
				t.Fatalf("opening:\n%s", text)
			}
			s, err := r.sessions.Load(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			if s.Direction != assistant.DirectionOutbound || s.Dialog.Verified || s.Dialog.CaseNumber != "" || s.Dialog.Target != target {
				t.Fatalf("session %+v", s)
			}
			var last assistant.Turn
			var all []string
			for _, in := range tt.inputs {
				last = mustTurn(t, r, call, in)
				all = append(all, last.Lines...)
			}
			if !last.Ended {
				t.Fatalf("not ended after %d inputs", len(tt.inputs))
			}
			for _, want := range tt.said {
				if !strings.Contains(strings.Join(last.Lines, "\n"), want) {
					t.Errorf("last turn %q lacks %q", last.Lines, want)
				}
			}
			debt := strings.Contains(strings.Join(all, "\n"), "złot")
			if debt != (tt.outcome == dialogs.OutcomeRightParty) {
				t.Errorf("amounts said = %v on a %s call: %q", debt, tt.outcome, all)
			}
			got, err := r.eng.Outcome(ctx, call)
			if err != nil || got != tt.outcome {
				t.Errorf("Outcome = %q, %v; want %q", got, err, tt.outcome)
			}
		})
	}
	if _, err := r.eng.Outcome(ctx, "nobody"); !errors.Is(err, assistant.ErrUnknownCall) {
		t.Errorf("Outcome of an unknown call = %v", err)
	}
}
