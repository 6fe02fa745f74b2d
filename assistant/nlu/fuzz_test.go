package nlu

import (
	"context"
	"testing"
	"time"

	"hotline/dialogs"
)

// validKinds are the intents an Understander may return.
var validKinds = map[dialogs.IntentKind]bool{
	dialogs.IntentDebt: true, dialogs.IntentPayments: true, dialogs.IntentCallback: true,
	dialogs.IntentComplaints: true, dialogs.IntentConsultant: true, dialogs.IntentRepeat: true,
	dialogs.IntentYes: true, dialogs.IntentNo: true, dialogs.IntentGoodbye: true,
	dialogs.IntentDigits: true, dialogs.IntentDate: true, dialogs.IntentSlot: true,
	dialogs.IntentChoice: true, dialogs.IntentUnknown: true,
}

// checkIntent fails the test when an intent breaks the package's promises
// about its slots, whatever the input.
func checkIntent(t *testing.T, exp dialogs.Expect, text string, it dialogs.Intent, now time.Time, loc *time.Location) {
	t.Helper()
	if !validKinds[it.Kind] {
		t.Fatalf("%q: invalid kind %q", text, it.Kind)
	}
	if it.Kind == dialogs.IntentDigits {
		if it.Digits == "" || len(it.Digits) > maxDigits {
			t.Fatalf("%q: digits %q of bad length", text, it.Digits)
		}
		for _, c := range []byte(it.Digits) {
			if c < '0' || c > '9' {
				t.Fatalf("%q: non-digit in %q", text, it.Digits)
			}
		}
	} else if it.Digits != "" {
		t.Fatalf("%q: digits set on %q", text, it.Kind)
	}
	if it.Kind == dialogs.IntentDate {
		d := it.Date
		if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
			t.Fatalf("%q: date %v is not UTC midnight", text, d)
		}
		if d.Year() < 1900 || d.After(now) {
			t.Fatalf("%q: implausible birth date %v", text, d)
		}
	} else if !it.Date.IsZero() {
		t.Fatalf("%q: date set on %q", text, it.Kind)
	}
	if it.Kind == dialogs.IntentSlot {
		if !it.When.After(now) || it.When.Location() != loc {
			t.Fatalf("%q: slot %v not in the future in %v", text, it.When, loc)
		}
	} else if !it.When.IsZero() {
		t.Fatalf("%q: when set on %q", text, it.Kind)
	}
	if it.Kind == dialogs.IntentChoice {
		max := exp.Options
		if max == 0 && exp.Kind == dialogs.ExpectChoice {
			max = 9
		}
		if it.Choice < 1 || it.Choice > max {
			t.Fatalf("%q: choice %d outside 1..%d", text, it.Choice, max)
		}
	} else if it.Choice != 0 {
		t.Fatalf("%q: choice set on %q", text, it.Kind)
	}
}

func FuzzRules(f *testing.F) {
	for _, s := range []string{
		"jutro o piętnastej", "drugiego stycznia osiemdziesiątego roku", "12 34 56 78",
		"jeden dwa trzy cztery pięć sześć siedem osiem", "02.01.1980", "o 15:30", "opcja dwa",
		"dwa tysiące dwa zera", "tysiące tysięcy", "zera zera", "wpół do pierwszej",
		"za kwadrans zero", "31.02.1999", "99999999999999999999999", "ŻÓŁĆ ĄĘ", "\xff\xfe",
		"o 24:00", "dziewięćset dziewięćdziesiąt dziewięć tysięcy", "dwudziestego dziewiątego lutego",
	} {
		f.Add(s)
	}
	loc := warsaw(f)
	r := NewRules(loc)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, loc)
	exps := []dialogs.Expect{
		{}, {Kind: dialogs.ExpectMenu}, {Kind: dialogs.ExpectCaseNumber}, {Kind: dialogs.ExpectBirthDate},
		{Kind: dialogs.ExpectChoice}, {Kind: dialogs.ExpectChoice, Options: 2},
		{Kind: dialogs.ExpectSlot}, {Kind: dialogs.ExpectSlot, Options: 3},
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, exp := range exps {
			it, err := r.Understand(context.Background(), exp, text, now)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			checkIntent(t, exp, text, it, now, loc)
		}
	})
}

// TestRulesAllocs keeps the rules cheap: the per-call budget is 20 µs and
// allocations are the part a benchmark-free CI run can pin down.
func TestRulesAllocs(t *testing.T) {
	r := NewRules(warsaw(t))
	now := testNow(t)
	n := testing.AllocsPerRun(100, func() {
		_, _ = r.Understand(context.Background(), expCase, "mój numer to jeden dwa trzy cztery pięć sześć siedem osiem", now)
	})
	if n > 4 {
		t.Errorf("Understand allocates %v times per call, want <= 4", n)
	}
}
