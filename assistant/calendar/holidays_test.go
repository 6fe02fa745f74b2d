package calendar

import (
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	tests := []struct {
		year  int
		month time.Month
		day   int
	}{
		{2000, time.April, 23},
		{2019, time.April, 21},
		{2024, time.March, 31},
		{2025, time.April, 20},
		{2026, time.April, 5},
		{2027, time.March, 28},
		{2038, time.April, 25},
	}
	for _, tt := range tests {
		m, d := Easter(tt.year)
		if m != tt.month || d != tt.day {
			t.Errorf("Easter(%d) = %v %d, want %v %d", tt.year, m, d, tt.month, tt.day)
		}
	}
}

func TestHolidaysKnownDates(t *testing.T) {
	// Official non-working days 2024-2027 (movable feasts checked against
	// published calendars).
	want := map[int][]string{
		2024: {"01-01", "01-06", "03-31", "04-01", "05-01", "05-03", "05-19", "05-30", "08-15", "11-01", "11-11", "12-25", "12-26"},
		2025: {"01-01", "01-06", "04-20", "04-21", "05-01", "05-03", "06-08", "06-19", "08-15", "11-01", "11-11", "12-24", "12-25", "12-26"},
		2026: {"01-01", "01-06", "04-05", "04-06", "05-01", "05-03", "05-24", "06-04", "08-15", "11-01", "11-11", "12-24", "12-25", "12-26"},
		2027: {"01-01", "01-06", "03-28", "03-29", "05-01", "05-03", "05-16", "05-27", "08-15", "11-01", "11-11", "12-24", "12-25", "12-26"},
	}
	for year, dates := range want {
		set := map[string]bool{}
		for _, d := range dates {
			set[d] = true
		}
		got := 0
		for day := time.Date(year, 1, 1, 12, 0, 0, 0, time.UTC); day.Year() == year; day = day.AddDate(0, 0, 1) {
			hol, name := IsHoliday(day)
			key := day.Format("01-02")
			if hol != set[key] {
				t.Errorf("IsHoliday(%d-%s) = %v (%q), want %v", year, key, hol, name, set[key])
			}
			if hol {
				got++
				if name == "" {
					t.Errorf("IsHoliday(%d-%s): empty name", year, key)
				}
			}
		}
		if got != len(dates) {
			t.Errorf("%d: %d holidays, want %d", year, got, len(dates))
		}
	}
}

func TestIsHolidayUsesTimesLocation(t *testing.T) {
	waw := Warsaw()
	// 2026-12-31 23:30 UTC is already 1 January 2027 in Warsaw.
	ts := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	if hol, _ := IsHoliday(ts); hol {
		t.Errorf("31 Dec UTC reported as holiday")
	}
	if hol, name := IsHoliday(ts.In(waw)); !hol || name != "Nowy Rok" {
		t.Errorf("IsHoliday(Warsaw 1 Jan) = %v %q, want Nowy Rok", hol, name)
	}
}

func TestWarsawLoads(t *testing.T) {
	if got := Warsaw().String(); got != Zone {
		t.Fatalf("Warsaw() = %q", got)
	}
}
