package say

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// prompts is a small prompt table for the tests.
func prompts(id string) (string, bool) {
	text, ok := map[string]string{
		"balance":   "Całkowite zadłużenie wynosi",
		"due":       "Najbliższa rata jest płatna do",
		"at":        "o",
		"account":   "Numer konta do wpłat:",
		"case":      "Numer akt sprawy",
		"comma":     ", a",
		"question":  "Czy to się zgadza?",
		"hello":     "  Dzień dobry!  ",
		"blank":     "   ",
		"colon":     ":",
		"ellipsis":  "Chwileczkę…",
		"thanks":    "Dziękuję",
		"interest":  "odsetki",
		"semicolon": "; poza tym",
	}[id]
	return text, ok
}

func TestRenderText(t *testing.T) {
	warsaw := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		u    Utterance
		want string
	}{
		{"empty", New(), ""},
		{"prompt only gets a full stop", New(Prompt("thanks")), "Dziękuję."},
		{"prompt already ending in ?", New(Prompt("question")), "Czy to się zgadza?"},
		{"trimmed prompt ending in !", New(Prompt("hello")), "Dzień dobry!"},
		{"ellipsis ends a sentence", New(Prompt("ellipsis")), "Chwileczkę…"},
		{"amount", New(Prompt("balance"), Amount(123456)),
			"Całkowite zadłużenie wynosi tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy."},
		{"date and time", New(Prompt("due"), Date(time.Date(2026, 3, 15, 15, 30, 0, 0, warsaw)), Prompt("at"),
			Time(time.Date(2026, 3, 15, 15, 30, 0, 0, warsaw))),
			"Najbliższa rata jest płatna do piętnastego marca dwa tysiące dwudziestego szóstego roku o piętnastej trzydzieści."},
		{"account after a colon", New(Prompt("account"), Account("26 1010 1014 0000 0712 1981 2874")),
			"Numer konta do wpłat: dwa sześć, jeden zero jeden zero, jeden zero jeden cztery, zero zero zero zero, zero siedem jeden dwa, jeden dziewięć osiem jeden, dwa osiem siedem cztery."},
		{"digits", New(Prompt("case"), Digits("123/24")), "Numer akt sprawy jeden dwa trzy łamane przez dwa cztery."},
		{"number and text", New(Number(3), Text("raty")), "trzy raty."},
		{"punctuation attaches", New(Amount(100), Prompt("comma"), Prompt("interest"), Prompt("colon"), Number(5)),
			"jeden złoty, a odsetki: pięć."},
		{"semicolon attaches", New(Prompt("thanks"), Prompt("semicolon"), Text("do widzenia")),
			"Dziękuję; poza tym do widzenia."},
		{"blank pieces are skipped", New(Prompt("blank"), Text(""), Prompt("thanks"), Text("  "), Text(" Pani ")),
			"Dziękuję Pani."},
		{"text ending in a full stop", New(Text("Do widzenia.")), "Do widzenia."},
		{"notice flag does not matter", Notice(Prompt("thanks")), "Dziękuję."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderText(tt.u, prompts)
			if err != nil {
				t.Fatalf("RenderText: %v", err)
			}
			if got != tt.want {
				t.Errorf("RenderText =\n %q, want\n %q", got, tt.want)
			}
			if strings.Contains(got, "  ") || got != strings.TrimSpace(got) {
				t.Errorf("RenderText = %q: bad spacing", got)
			}
		})
	}
}

func TestRenderTextErrors(t *testing.T) {
	tests := []struct {
		name    string
		u       Utterance
		lookup  func(string) (string, bool)
		target  error
		message string // a fragment the message must contain
	}{
		{"missing prompt", New(Prompt("thanks"), Prompt("nope")), prompts, ErrUnknownPrompt, `segment 1 (prompt): say: unknown prompt "nope"`},
		{"no prompt table", New(Prompt("thanks")), nil, ErrUnknownPrompt, "no prompt table"},
		{"unknown kind", New(Segment{}), prompts, ErrInvalidSegment, "kind unknown"},
		{"kind out of table", New(Segment{Kind: 99}), prompts, ErrInvalidSegment, "kind(99)"},
		{"month 13", New(Segment{Kind: KindDate, Year: 2026, Month: 13, Day: 1}), prompts, ErrInvalidSegment, "month 13"},
		{"month 0", New(Segment{Kind: KindDate, Year: 2026, Month: 0, Day: 1}), prompts, ErrInvalidSegment, "month 0"},
		{"day 0", New(Segment{Kind: KindDate, Year: 2026, Month: 1, Day: 0}), prompts, ErrInvalidSegment, "day 0"},
		{"day 32", New(Segment{Kind: KindDate, Year: 2026, Month: 1, Day: 32}), prompts, ErrInvalidSegment, "day 32"},
		{"31 April", New(Segment{Kind: KindDate, Year: 2026, Month: 4, Day: 31}), prompts, ErrInvalidSegment, "1–30"},
		{"29 February 2025", New(Segment{Kind: KindDate, Year: 2025, Month: 2, Day: 29}), prompts, ErrInvalidSegment, "1–28"},
		{"year 0", New(Segment{Kind: KindDate, Year: 0, Month: 1, Day: 1}), prompts, ErrInvalidSegment, "year 0"},
		{"hour 24", New(Segment{Kind: KindTime, Hour: 24}), prompts, ErrInvalidSegment, "hour 24"},
		{"hour -1", New(Segment{Kind: KindTime, Hour: -1}), prompts, ErrInvalidSegment, "hour -1"},
		{"minute 60", New(Segment{Kind: KindTime, Hour: 8, Minute: 60}), prompts, ErrInvalidSegment, "minute 60"},
		{"empty digits", New(Digits("")), prompts, ErrInvalidSegment, "no digits"},
		{"digits without digits", New(Digits("/-")), prompts, ErrInvalidSegment, "no digits"},
		{"digits with letters", New(Digits("KM 12")), prompts, ErrInvalidSegment, "other than digits"},
		{"empty account", New(Account(" ")), prompts, ErrInvalidSegment, "no digits"},
		{"account with letters", New(Account("DE12 3456")), prompts, ErrInvalidSegment, "other than digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderText(tt.u, tt.lookup)
			if !errors.Is(err, tt.target) {
				t.Fatalf("RenderText = %q, %v; want an error wrapping %v", got, err, tt.target)
			}
			if got != "" {
				t.Errorf("RenderText returned %q with the error", got)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		seg  Segment
		want string
	}{
		{Amount(200), "dwa złote"},
		{Amount(-12), "minus zero złotych dwanaście groszy"},
		{Number(22000), "dwadzieścia dwa tysiące"},
		{Number(0), "zero"},
		{Segment{Kind: KindDate, Year: 2000, Month: 1, Day: 2}, "drugiego stycznia dwutysięcznego roku"},
		{Segment{Kind: KindDate, Year: 2024, Month: 2, Day: 29}, "dwudziestego dziewiątego lutego dwa tysiące dwudziestego czwartego roku"},
		{Segment{Kind: KindTime, Hour: 0, Minute: 0}, "zerowej"},
		{Segment{Kind: KindTime, Hour: 23, Minute: 59}, "dwudziestej trzeciej pięćdziesiąt dziewięć"},
		{Segment{Kind: KindTime, Hour: 15, Minute: 5}, "piętnastej zero pięć"},
		{Digits("0*#"), "zero gwiazdka krzyżyk"},
		{Account("PL26 1010"), "dwa sześć jeden zero, jeden zero"},
		{Account("12345"), "jeden dwa trzy cztery, pięć"},
		{Text("Kancelaria Nowak"), "Kancelaria Nowak"},
	}
	for _, tt := range tests {
		got, err := Words(tt.seg)
		if err != nil {
			t.Errorf("Words(%+v): %v", tt.seg, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Words(%+v) = %q, want %q", tt.seg, got, tt.want)
		}
	}
	if _, err := Words(Prompt("thanks")); !errors.Is(err, ErrInvalidSegment) {
		t.Errorf("Words(prompt) error = %v, want ErrInvalidSegment", err)
	}
}

// TestWordsEveryDateAndTime walks every day of 2024 (a leap year) and every
// minute of the day: all are accepted and give words.
func TestWordsEveryDateAndTime(t *testing.T) {
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2024; d = d.AddDate(0, 0, 1) {
		if w, err := Words(Date(d)); err != nil || !strings.HasSuffix(w, " roku") {
			t.Fatalf("Words(Date(%s)) = %q, %v", d.Format(time.DateOnly), w, err)
		}
	}
	for m := 0; m < 24*60; m++ {
		seg := Segment{Kind: KindTime, Hour: m / 60, Minute: m % 60}
		if w, err := Words(seg); err != nil || w == "" {
			t.Fatalf("Words(%02d:%02d) = %q, %v", seg.Hour, seg.Minute, w, err)
		}
	}
}

// TestErrorsHideDigits checks that error messages never echo a digit
// string: those are case and account numbers.
func TestErrorsHideDigits(t *testing.T) {
	for _, seg := range []Segment{Digits("98765x"), Account("PL98765 ABC")} {
		_, err := Words(seg)
		if err == nil || strings.Contains(err.Error(), "98765") {
			t.Errorf("Words error %v leaks the digits", err)
		}
	}
}
