package assistant

import (
	"errors"
	"testing"

	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

// The engine's own privacy gate must hold even if the flow misbehaved.
func TestCheckDisclosures(t *testing.T) {
	verified := dialogs.State{Phase: dialogs.PhaseMenu, Verified: true, CaseNumber: "12345678"}
	unverified := dialogs.State{Phase: dialogs.PhaseBirthDate}
	disc := func(c string) []dialogs.Disclosure {
		return []dialogs.Disclosure{{Kind: dialogs.DiscloseBalance, CaseNumber: c}}
	}
	tests := []struct {
		name  string
		state dialogs.State
		reply dialogs.Reply
		ok    bool
	}{
		{"verified disclosure", verified, dialogs.Reply{Disclosures: disc("12345678"), Say: []say.Utterance{say.New(say.Amount(100))}}, true},
		{"unverified disclosure", unverified, dialogs.Reply{Disclosures: disc("12345678")}, false},
		{"disclosure of another case", verified, dialogs.Reply{Disclosures: disc("87654321")}, false},
		{"verified flag without case", dialogs.State{Verified: true}, dialogs.Reply{Disclosures: disc("")}, false},
		{"amount before verification", unverified, dialogs.Reply{Say: []say.Utterance{say.New(say.Prompt("x"), say.Amount(1))}}, false},
		{"date before verification", unverified, dialogs.Reply{Say: []say.Utterance{say.New(say.Segment{Kind: say.KindDate, Year: 2026, Month: 1, Day: 2})}}, false},
		{"account before verification", unverified, dialogs.Reply{Say: []say.Utterance{say.New(say.Account("12"))}}, false},
		{"text before verification", unverified, dialogs.Reply{Say: []say.Utterance{say.New(say.Text("Jan"))}}, false},
		{"prompts before verification", unverified, dialogs.Reply{Say: []say.Utterance{say.New(say.Prompt("greeting"), say.Number(3))}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDisclosures(&turn{state: tt.state, reply: tt.reply})
			if tt.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrPrivacy) {
				t.Fatalf("accepted (err=%v)", err)
			}
		})
	}
}
