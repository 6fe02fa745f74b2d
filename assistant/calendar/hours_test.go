package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustHours(t *testing.T, rules ...string) Hours {
	t.Helper()
	h, err := ParseHours(Warsaw(), rules...)
	if err != nil {
		t.Fatalf("ParseHours(%q): %v", rules, err)
	}
	return h
}

// waw builds a Warsaw wall-clock time.
func waw(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, Warsaw())
}

func TestParseHoursErrors(t *testing.T) {
	tests := []struct {
		rules []string
		want  string // substring of the error
	}{
		{nil, "no rules"},
		{[]string{" ; "}, "no rules"},
		{[]string{"mon-fri"}, `want "DAYS HH:MM-HH:MM"`},
		{[]string{"mon-fri 8:00-20:00"}, `bad time "8:00": want HH:MM`},
		{[]string{"mon-fri 08:00-25:00"}, `bad time "25:00"`},
		{[]string{"mon-fri 08:60-20:00"}, `bad time "08:60"`},
		{[]string{"mon-fri 20:00-08:00"}, "end must be after start"},
		{[]string{"mon-fri 08:00"}, `bad time range "08:00"`},
		{[]string{"mon-fru 08:00-20:00"}, `unknown day "fru"`},
		{[]string{"fri-mon 08:00-20:00"}, "goes backwards"},
		{[]string{"mon 24:00-24:00"}, "24:00 can only end a range"},
		{[]string{"mon-fri 08:00-20:00", "sat 09:00-13:00; sun 9-13"}, `rule "sun 9-13"`},
	}
	for _, tt := range tests {
		_, err := ParseHours(Warsaw(), tt.rules...)
		if err == nil {
			t.Errorf("ParseHours(%q): no error, want %q", tt.rules, tt.want)
			continue
		}
		if !errors.Is(err, ErrHours) {
			t.Errorf("ParseHours(%q): error %v does not wrap ErrHours", tt.rules, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseHours(%q) = %q, want it to contain %q", tt.rules, err, tt.want)
		}
	}
	if _, err := ParseHours(nil, "mon 08:00-09:00"); err == nil {
		t.Error("nil location accepted")
	}
}

func TestParseHoursString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mon-fri 08:00-20:00; sat 09:00-13:00", "mon-fri 08:00-20:00; sat 09:00-13:00"},
		{"MON,tue 08:00-12:00 , 13:00-17:00", "mon-tue 08:00-12:00,13:00-17:00"},
		{"mon 08:00-12:00; mon 11:00-14:00; mon 14:00-15:00", "mon 08:00-15:00"},
		{"sat-sun 10:00-24:00; hol 10:00-12:00", "sat-sun 10:00-24:00; hol 10:00-12:00"},
	}
	for _, tt := range tests {
		if got := mustHours(t, tt.in).String(); got != tt.want {
			t.Errorf("ParseHours(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOpen(t *testing.T) {
	h := mustHours(t, "mon-fri 08:00-20:00", "sat 09:00-13:00")
	tests := []struct {
		at   time.Time
		want bool
	}{
		{waw(2026, 11, 24, 10, 0), true},                                           // Tuesday
		{waw(2026, 11, 24, 8, 0), true},                                            // opening minute
		{waw(2026, 11, 24, 7, 59), false},                                          // before
		{waw(2026, 11, 24, 19, 59), true},                                          // last minute
		{waw(2026, 11, 24, 20, 0), false},                                          // end is exclusive
		{waw(2026, 11, 28, 12, 0), true},                                           // Saturday
		{waw(2026, 11, 28, 13, 0), false},                                          // Saturday after close
		{waw(2026, 11, 29, 12, 0), false},                                          // Sunday
		{waw(2026, 11, 11, 12, 0), false},                                          // Wednesday, Independence Day
		{waw(2026, 12, 24, 12, 0), false},                                          // Thursday, Wigilia
		{time.Date(2026, 11, 24, 7, 30, 0, 0, time.UTC), true},                     // 08:30 CET
		{time.Date(2026, 11, 24, 19, 30, 0, 0, time.UTC), false},                   // 20:30 CET
		{time.Date(2026, 6, 2, 6, 30, 0, 0, time.UTC), true},                       // 08:30 CEST
		{time.Date(2026, 6, 2, 5, 30, 0, 0, time.UTC), false},                      // 07:30 CEST
		{time.Date(2026, 11, 24, 19, 59, 59, 999, time.UTC).Add(-time.Hour), true}, // 19:59:59 CET
	}
	for _, tt := range tests {
		if got := h.Open(tt.at); got != tt.want {
			t.Errorf("Open(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
	if (Hours{}).Open(waw(2026, 11, 24, 10, 0)) {
		t.Error("zero Hours open")
	}
}

func TestHolidayHours(t *testing.T) {
	h := mustHours(t, "mon-sun 08:00-20:00; hol 10:00-12:00")
	if !h.Open(waw(2026, 12, 25, 11, 0)) || h.Open(waw(2026, 12, 25, 9, 0)) {
		t.Error("holiday hours not applied on 25 Dec")
	}
	if !h.Open(waw(2026, 12, 23, 9, 0)) {
		t.Error("weekday hours not applied on 23 Dec")
	}
}

func TestNext(t *testing.T) {
	h := mustHours(t, "mon-fri 08:00-20:00", "sat 09:00-13:00")
	tests := []struct {
		name     string
		from     time.Time
		want     time.Time
		wantZone string
	}{
		{"open now", waw(2026, 11, 24, 10, 17), waw(2026, 11, 24, 10, 17), "CET"},
		{"early morning", waw(2026, 11, 24, 6, 0), waw(2026, 11, 24, 8, 0), "CET"},
		{"evening", waw(2026, 11, 24, 20, 0), waw(2026, 11, 25, 8, 0), "CET"},
		{"saturday afternoon", waw(2026, 11, 28, 13, 0), waw(2026, 11, 30, 8, 0), "CET"},
		{"before independence day", waw(2026, 11, 10, 21, 0), waw(2026, 11, 12, 8, 0), "CET"},
		{"christmas", waw(2026, 12, 23, 20, 30), waw(2026, 12, 28, 8, 0), "CET"},
		{"easter", waw(2026, 4, 4, 14, 0), waw(2026, 4, 7, 8, 0), "CEST"},
		// DST starts on Sunday 2026-03-29: Saturday closes in CET, Monday opens in CEST.
		{"spring forward", waw(2026, 3, 28, 13, 0), time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC), "CEST"},
		// DST ends on Sunday 2026-10-25.
		{"fall back", waw(2026, 10, 24, 13, 0), time.Date(2026, 10, 26, 7, 0, 0, 0, time.UTC), "CET"},
	}
	for _, tt := range tests {
		got := h.Next(tt.from)
		if !got.Equal(tt.want) {
			t.Errorf("%s: Next(%v) = %v, want %v", tt.name, tt.from, got, tt.want)
		}
		if zone, _ := got.In(Warsaw()).Zone(); zone != tt.wantZone {
			t.Errorf("%s: Next zone %s, want %s", tt.name, zone, tt.wantZone)
		}
		if !h.Open(got) {
			t.Errorf("%s: Next(%v) = %v is not open", tt.name, tt.from, got)
		}
	}
	if got := (Hours{}).Next(waw(2026, 1, 1, 0, 0)); !got.IsZero() {
		t.Errorf("zero Hours Next = %v", got)
	}
}

func TestDSTNights(t *testing.T) {
	h := mustHours(t, "sun 01:00-04:00")
	// Fall back, 2026-10-25: 02:30 happens twice (00:30 and 01:30 UTC); both are open,
	// and the span is four hours long.
	for _, utc := range []time.Time{
		time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC),
		time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC),
		time.Date(2026, 10, 25, 2, 59, 0, 0, time.UTC),
	} {
		if !h.Open(utc) {
			t.Errorf("fall back: %v (%v) not open", utc, utc.In(Warsaw()))
		}
	}
	if h.Open(time.Date(2026, 10, 25, 3, 0, 0, 0, time.UTC)) {
		t.Error("fall back: 04:00 CET open")
	}
	sp := h.Spans(waw(2026, 10, 25, 12, 0))
	if len(sp) != 1 || sp[0].End.Sub(sp[0].Start) != 4*time.Hour {
		t.Errorf("fall back spans = %v, want one of 4h", sp)
	}
	// Spring forward, 2026-03-29: 02:00-03:00 does not exist; the span is two hours.
	sp = h.Spans(waw(2026, 3, 29, 12, 0))
	if len(sp) != 1 || sp[0].End.Sub(sp[0].Start) != 2*time.Hour {
		t.Errorf("spring forward spans = %v, want one of 2h", sp)
	}
	if !h.Open(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) { // 03:30 CEST
		t.Error("spring forward: 03:30 CEST not open")
	}
}

func TestWithin(t *testing.T) {
	h := mustHours(t, "mon-fri 09:00-12:00,13:00-17:00")
	tests := []struct {
		from time.Time
		d    time.Duration
		want bool
	}{
		{waw(2026, 11, 24, 9, 0), 30 * time.Minute, true},
		{waw(2026, 11, 24, 11, 30), 30 * time.Minute, true},
		{waw(2026, 11, 24, 11, 45), 30 * time.Minute, false}, // crosses the lunch break
		{waw(2026, 11, 24, 16, 30), 30 * time.Minute, true},
		{waw(2026, 11, 24, 16, 31), 30 * time.Minute, false},
		{waw(2026, 11, 24, 8, 45), 30 * time.Minute, false},
		{waw(2026, 11, 24, 10, 0), 0, false},
		{waw(2026, 11, 28, 10, 0), 30 * time.Minute, false}, // Saturday
	}
	for _, tt := range tests {
		if got := h.Within(tt.from, tt.from.Add(tt.d)); got != tt.want {
			t.Errorf("Within(%v, +%v) = %v, want %v", tt.from, tt.d, got, tt.want)
		}
	}
}
