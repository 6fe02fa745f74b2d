package dialogs

import (
	"errors"
	"testing"

	"hotline/telephony/speech/say"
)

// TestCheckReply: the last look at a reply lets only prompts and counts
// through before verification.
func TestCheckReply(t *testing.T) {
	unverified := State{Phase: PhaseMenu, CaseNumber: "12345678"}
	verified := State{Phase: PhaseMenu, Verified: true, CaseNumber: "12345678"}
	utter := func(s say.Segment) Reply { return Reply{Say: []say.Utterance{say.New(say.Prompt("x"), s)}} }
	tests := []struct {
		name string
		st   State
		r    Reply
		ok   bool
	}{
		{"prompts", unverified, Reply{Say: []say.Utterance{say.New(say.Prompt("menu"))}}, true},
		{"number", unverified, utter(say.Number(2)), true},
		{"amount", unverified, utter(say.Amount(1)), false},
		{"digits", unverified, utter(say.Digits("1")), false},
		{"text", unverified, utter(say.Text("Bank")), false},
		{"account", unverified, utter(say.Account("1")), false},
		{"time", unverified, utter(say.Segment{Kind: say.KindTime, Hour: 9}), false},
		{"date", unverified, utter(say.Segment{Kind: say.KindDate, Year: 2026, Month: 1, Day: 1}), false},
		{"unknown kind", unverified, utter(say.Segment{}), false},
		{"disclosure", unverified, Reply{Disclosures: []Disclosure{{Kind: DiscloseBalance}}}, false},
		{"callback", unverified, Reply{Callback: &Callback{}}, false},
		{"verified without a case", State{Verified: true}, utter(say.Amount(1)), false},
		{"verified amount", verified, utter(say.Amount(1)), true},
	}
	for _, tt := range tests {
		err := checkReply(&tt.st, &tt.r)
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, errNotVerified) {
			t.Errorf("%s: checkReply = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestDiscloseUnverified: disclose refuses and leaves the reply untouched.
func TestDiscloseUnverified(t *testing.T) {
	tr := &turn{st: State{Phase: PhaseMenu, CaseNumber: "12345678"}}
	err := tr.disclose([]DisclosureKind{DiscloseBalance}, say.New(say.Prompt(pDebtBalance), say.Amount(5)))
	if !errors.Is(err, errNotVerified) {
		t.Fatalf("disclose = %v", err)
	}
	if len(tr.reply.Say) != 0 || len(tr.reply.Disclosures) != 0 || len(tr.keep) != 0 {
		t.Errorf("reply touched: %+v", tr.reply)
	}
}
