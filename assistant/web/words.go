package web

import (
	"fmt"
	"time"
)

var (
	// weekdays in the nominative (labels: "wtorek, 1 grudnia").
	weekdays = [...]string{"niedziela", "poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota"}
	// weekdaysOn with their preposition ("we wtorek", "w środę").
	weekdaysOn = [...]string{"w niedzielę", "w poniedziałek", "we wtorek", "w środę", "w czwartek", "w piątek", "w sobotę"}
	// monthsOf in the genitive, as dates are said ("1 grudnia").
	monthsOf = [...]string{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
		"lipca", "sierpnia", "września", "października", "listopada", "grudnia"}
)

// DayLabel names the day of t in loc: "wtorek, 1 grudnia".
func DayLabel(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf("%s, %d %s", weekdays[t.Weekday()], t.Day(), monthsOf[t.Month()-1])
}

// WindowLabel is a slot's time window: "15:00–15:30".
func WindowLabel(start time.Time, length time.Duration, loc *time.Location) string {
	return start.In(loc).Format("15:04") + "–" + start.Add(length).In(loc).Format("15:04")
}

// SlotWords says when a slot is, for the confirmation: "we wtorek,
// 1 grudnia, między 15:00 a 15:30".
func SlotWords(start time.Time, length time.Duration, loc *time.Location) string {
	s, e := start.In(loc), start.Add(length).In(loc)
	return fmt.Sprintf("%s, %d %s, między %s a %s", weekdaysOn[s.Weekday()], s.Day(), monthsOf[s.Month()-1],
		s.Format("15:04"), e.Format("15:04"))
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
