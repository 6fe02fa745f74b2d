package dialogs_test

import (
	"strings"
	"testing"

	"hotline/dialogs"
)

func TestParseKeys(t *testing.T) {
	caseNo := dialogs.Expect{Kind: dialogs.ExpectCaseNumber, MaxDigits: 13, Finish: "#"}
	birth := dialogs.Expect{Kind: dialogs.ExpectBirthDate, MaxDigits: 8, Finish: "#"}
	menu := dialogs.Expect{Kind: dialogs.ExpectMenu, MaxDigits: 1}
	choice := dialogs.Expect{Kind: dialogs.ExpectChoice, MaxDigits: 1, Options: 2}
	slot := dialogs.Expect{Kind: dialogs.ExpectSlot, MaxDigits: 1, Options: 3}
	digits := func(d string) dialogs.Intent {
		return dialogs.Intent{Kind: dialogs.IntentDigits, Digits: d, Source: "keys"}
	}
	kind := func(k dialogs.IntentKind) dialogs.Intent { return dialogs.Intent{Kind: k, Source: "keys"} }
	pick := func(n int) dialogs.Intent {
		return dialogs.Intent{Kind: dialogs.IntentChoice, Choice: n, Source: "keys"}
	}
	unknown := kind(dialogs.IntentUnknown)

	tests := []struct {
		exp  dialogs.Expect
		keys string
		want dialogs.Intent
	}{
		{caseNo, "", dialogs.Intent{}},
		{caseNo, "12345678#", digits("12345678")},
		{caseNo, "12345678", digits("12345678")},
		{caseNo, "0012#", digits("0012")}, // the flow checks the length
		{caseNo, "#", unknown},
		{caseNo, "123*45#", unknown},
		{caseNo, "*", unknown},
		{caseNo, "123#45", unknown},
		{caseNo, "123##", unknown},
		{caseNo, "12a4#", unknown},
		{caseNo, "١٢٣", unknown}, // non-ASCII digits
		{birth, "01021980", digits("01021980")},
		{birth, "01021980#", digits("01021980")},
		{birth, "0102#", digits("0102")},
		{birth, "**##", unknown},
		{menu, "1", kind(dialogs.IntentDebt)},
		{menu, "2", kind(dialogs.IntentPayments)},
		{menu, "3", kind(dialogs.IntentCallback)},
		{menu, "4", kind(dialogs.IntentComplaints)},
		{menu, "0", kind(dialogs.IntentConsultant)},
		{menu, "9", kind(dialogs.IntentRepeat)},
		{menu, "5", unknown},
		{menu, "*", unknown},
		{menu, "#", unknown},
		{menu, "12", unknown},
		{dialogs.Expect{Kind: dialogs.ExpectMenu, Finish: "#"}, "1#", kind(dialogs.IntentDebt)},
		{choice, "1", pick(1)},
		{choice, "2", pick(2)},
		{choice, "3", unknown},
		{choice, "0", unknown},
		{choice, "9", kind(dialogs.IntentRepeat)},
		{slot, "3", pick(3)},
		{slot, "4", unknown},
		{slot, "0", kind(dialogs.IntentNo)},
		{slot, "9", kind(dialogs.IntentRepeat)},
		{slot, "11", unknown},
		{dialogs.Expect{}, "1", unknown},
		{dialogs.Expect{}, "", dialogs.Intent{}},
	}
	for _, tt := range tests {
		if got := dialogs.ParseKeys(tt.exp, tt.keys); got != tt.want {
			t.Errorf("ParseKeys(%s, %q) = %+v, want %+v", tt.exp.Kind, tt.keys, got, tt.want)
		}
	}
}

// FuzzParseKeys: any keys give a well-formed intent for every question.
func FuzzParseKeys(f *testing.F) {
	for _, s := range []string{"", "#", "*", "12345678#", "01021980", "1", "9", "0", "**##", "12#34", "\x00", "ą"} {
		f.Add(s, uint8(3))
	}
	kinds := []dialogs.ExpectKind{dialogs.ExpectNothing, dialogs.ExpectCaseNumber, dialogs.ExpectBirthDate,
		dialogs.ExpectMenu, dialogs.ExpectChoice, dialogs.ExpectSlot}
	f.Fuzz(func(t *testing.T, keys string, options uint8) {
		for _, k := range kinds {
			exp := dialogs.Expect{Kind: k, Finish: "#", Options: int(options % 10)}
			it := dialogs.ParseKeys(exp, keys)
			switch {
			case keys == "":
				if it != (dialogs.Intent{}) {
					t.Fatalf("%s %q: %+v, want the zero intent", k, keys, it)
				}
				continue
			case it.Source != "keys":
				t.Fatalf("%s %q: source %q", k, keys, it.Source)
			}
			switch it.Kind {
			case dialogs.IntentDigits:
				if k != dialogs.ExpectCaseNumber && k != dialogs.ExpectBirthDate {
					t.Fatalf("%s %q: digits for a one-key question", k, keys)
				}
				if it.Digits == "" || strings.Trim(it.Digits, "0123456789") != "" || !strings.HasPrefix(keys, it.Digits) {
					t.Fatalf("%s %q: digits %q", k, keys, it.Digits)
				}
			case dialogs.IntentChoice:
				if it.Choice < 1 || it.Choice > exp.Options {
					t.Fatalf("%s %q: choice %d of %d", k, keys, it.Choice, exp.Options)
				}
			case dialogs.IntentUnknown, dialogs.IntentDebt, dialogs.IntentPayments, dialogs.IntentCallback,
				dialogs.IntentComplaints, dialogs.IntentConsultant, dialogs.IntentRepeat, dialogs.IntentNo:
			default:
				t.Fatalf("%s %q: unexpected intent %+v", k, keys, it)
			}
		}
	})
}
