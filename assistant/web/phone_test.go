package web_test

import (
	"testing"
	"time"

	"hotline/assistant/web"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want, msg string
	}{
		{"601234567", "+48601234567", ""},
		{"601 234 567", "+48601234567", ""},
		{"601-234-567", "+48601234567", ""},
		{" +48 601 234 567 ", "+48601234567", ""},
		{"+48601234567", "+48601234567", ""},
		{"0048 601 234 567", "+48601234567", ""},
		{"48601234567", "+48601234567", ""},
		{"(22) 123 45 67", "+48221234567", ""},
		{"022 123 45 67", "+48221234567", ""},
		{"22.123.45.67", "+48221234567", ""},
		{"+49 30 1234567", "+49301234567", ""},
		{"0049 30 1234567", "+49301234567", ""},
		{"", "", web.MsgPhoneEmpty},
		{"   ", "", web.MsgPhoneEmpty},
		{"60123456", "", web.MsgPhoneLength},
		{"6012345678", "", web.MsgPhoneLength},
		{"+48 601 234 56", "", web.MsgPhoneLength},
		{"+48 601 234 5678", "", web.MsgPhoneLength},
		{"012345678", "", web.MsgPhoneInvalid},
		{"+1234", "", web.MsgPhoneInvalid},
		{"+0123456789", "", web.MsgPhoneInvalid},
		{"+1234567890123456", "", web.MsgPhoneInvalid},
		{"601 234 567 wew. 12", "", web.MsgPhoneChars},
		{"601+234567", "", web.MsgPhoneChars},
		{"sześćset jeden", "", web.MsgPhoneChars},
		{"<script>", "", web.MsgPhoneChars},
		{"601234567601234567601234567601234567601234567", "", web.MsgPhoneLength},
	}
	for _, tt := range tests {
		got, err := web.NormalizePhone(tt.in)
		msg := ""
		if fe, ok := err.(*web.FieldError); ok {
			msg = fe.Message
			if fe.Field != web.FieldPhone {
				t.Errorf("%q: field %q", tt.in, fe.Field)
			}
		} else if err != nil {
			t.Errorf("%q: error %T %v", tt.in, err, err)
		}
		if got != tt.want || msg != tt.msg {
			t.Errorf("NormalizePhone(%q) = %q, %q; want %q, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
}

// FuzzNormalizePhone: whatever is typed, the result is E.164 or a field error.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"601 234 567", "+48601234567", "0048", "(", "+", "00", "\u00a0601234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := web.NormalizePhone(s)
		if err != nil {
			if got != "" {
				t.Fatalf("%q: %q with error %v", s, got, err)
			}
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || got[1] == '0' {
			t.Fatalf("%q → %q: not E.164", s, got)
		}
		for _, c := range got[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("%q → %q: not E.164", s, got)
			}
		}
		if again, err := web.NormalizePhone(got); err != nil || again != got {
			t.Fatalf("%q → %q → %q, %v: not idempotent", s, got, again, err)
		}
	})
}

func TestSlotWords(t *testing.T) {
	waw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		at          time.Time
		words, day  string
		window      string
		slotMinutes int
	}{
		{time.Date(2026, 12, 1, 15, 0, 0, 0, waw), "we wtorek, 1 grudnia, między 15:00 a 15:30", "wtorek, 1 grudnia", "15:00–15:30", 30},
		{time.Date(2026, 3, 4, 9, 0, 0, 0, waw), "w środę, 4 marca, między 09:00 a 10:00", "środa, 4 marca", "09:00–10:00", 60},
		{time.Date(2026, 5, 4, 16, 45, 0, 0, waw), "w poniedziałek, 4 maja, między 16:45 a 17:00", "poniedziałek, 4 maja", "16:45–17:00", 15},
		// Given in UTC, said in Warsaw time.
		{time.Date(2026, 7, 3, 12, 0, 0, 0, time.UTC), "w piątek, 3 lipca, między 14:00 a 14:30", "piątek, 3 lipca", "14:00–14:30", 30},
	}
	for _, tt := range tests {
		d := time.Duration(tt.slotMinutes) * time.Minute
		if got := web.SlotWords(tt.at, d, waw); got != tt.words {
			t.Errorf("SlotWords(%v) = %q, want %q", tt.at, got, tt.words)
		}
		if got := web.DayLabel(tt.at, waw); got != tt.day {
			t.Errorf("DayLabel(%v) = %q, want %q", tt.at, got, tt.day)
		}
		if got := web.WindowLabel(tt.at, d, waw); got != tt.window {
			t.Errorf("WindowLabel(%v) = %q, want %q", tt.at, got, tt.window)
		}
	}
}
