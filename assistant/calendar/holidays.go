// Package calendar knows Polish public holidays and weekly opening hours
// (consultant hours, the outbound calling window), all evaluated in a
// given *time.Location — normally Europe/Warsaw.
//
// It embeds the time zone database (time/tzdata) so Europe/Warsaw loads
// on machines and containers without /usr/share/zoneinfo.
package calendar

import (
	"fmt"
	"time"
	// Embedded zoneinfo: the hours rules must not depend on the host image.
	_ "time/tzdata"
)

// Zone is the time zone the company works in.
const Zone = "Europe/Warsaw"

// Warsaw returns the Europe/Warsaw location. The zone database is embedded
// (time/tzdata), so it cannot be missing; a failure means a broken
// toolchain and panics.
func Warsaw() *time.Location {
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		panic(fmt.Sprintf("calendar: loading %s with embedded tzdata: %v", Zone, err))
	}
	return loc
}

// Holiday is one public holiday: a calendar date and its Polish name.
type Holiday struct {
	Month time.Month
	Day   int
	Name  string
}

// wigiliaSince is the first year in which 24 December is a statutory
// public holiday in Poland (act of 6 December 2024).
const wigiliaSince = 2025

// Holidays returns the statutory non-working days of the given year in
// calendar order (ustawa o dniach wolnych od pracy).
func Holidays(year int) []Holiday {
	em, ed := Easter(year)
	easter := time.Date(year, em, ed, 0, 0, 0, 0, time.UTC)
	rel := func(days int, name string) Holiday {
		d := easter.AddDate(0, 0, days)
		return Holiday{Month: d.Month(), Day: d.Day(), Name: name}
	}
	hs := []Holiday{
		{time.January, 1, "Nowy Rok"},
		{time.January, 6, "Święto Trzech Króli"},
		rel(0, "Wielkanoc"),
		rel(1, "Poniedziałek Wielkanocny"),
		{time.May, 1, "Święto Pracy"},
		{time.May, 3, "Święto Konstytucji 3 Maja"},
		rel(49, "Zielone Świątki"),
		rel(60, "Boże Ciało"),
		{time.August, 15, "Wniebowzięcie Najświętszej Maryi Panny"},
		{time.November, 1, "Wszystkich Świętych"},
		{time.November, 11, "Narodowe Święto Niepodległości"},
	}
	if year >= wigiliaSince {
		hs = append(hs, Holiday{time.December, 24, "Wigilia Bożego Narodzenia"})
	}
	hs = append(hs,
		Holiday{time.December, 25, "Boże Narodzenie (pierwszy dzień)"},
		Holiday{time.December, 26, "Boże Narodzenie (drugi dzień)"},
	)
	return hs
}

// IsHoliday reports whether the calendar date of t, read in t's own
// location, is a Polish public holiday, and its name.
func IsHoliday(t time.Time) (bool, string) {
	y, m, d := t.Date()
	for _, h := range Holidays(y) {
		if h.Month == m && h.Day == d {
			return true, h.Name
		}
	}
	return false, ""
}

// Easter returns the date of (Western) Easter Sunday of the given
// Gregorian year, by the anonymous Gregorian computus (Meeus/Jones/Butcher).
func Easter(year int) (time.Month, int) {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Month(month), day
}
