package nlu

import (
	"time"
)

// slotContext is what a transcript says about a day and a part of the day.
type slotContext struct {
	dayOff   int // relative day + 1 (0 = not said)
	weekday  int // time.Weekday + 1 (0 = not said)
	monthTok int // index of a month name token, -1 when none
	period   int // per* constant
	choice   int // index of a choice word ("opcja", "numer"), -1 when none
	last     bool
}

// hasDay reports whether a day was named.
func (c *slotContext) hasDay() bool { return c.dayOff > 0 || c.weekday > 0 || c.monthTok >= 0 }

func scanSlotContext(toks []token) slotContext {
	c := slotContext{monthTok: -1, choice: -1}
	for i := range toks {
		w := &toks[i].w
		switch {
		case w.dayOff > 0:
			c.dayOff = int(w.dayOff)
		case w.weekday > 0:
			c.weekday = int(w.weekday)
		case w.month > 0:
			c.monthTok = i
		case w.period > 0:
			c.period = int(w.period)
		case w.flags&fChoice != 0 && c.choice < 0:
			c.choice = i
		case w.flags&fLast != 0:
			c.last = true
		}
		// "po południu", "przed południem", "w południe": the meaning of
		// "południe" depends on the word before it.
		switch s := toks[i].s; s {
		case "poludniu", "poludnie", "poludniem":
			switch {
			case i > 0 && toks[i-1].w.flags&fAfter != 0:
				c.period = perAfternoon
			case i > 0 && toks[i-1].w.flags&fBefore != 0:
				c.period = perForenoon
			default:
				c.period = perNoon
			}
		}
	}
	return c
}

// parseChoice finds a numbered option (1..max): "dwa", "drugi", "opcja
// trzecia", "numer 2", "ostatni". A bare number only counts when nothing in
// the answer points at a clock time (bare is false then).
func parseChoice(toks []token, groups []group, c *slotContext, max int, bare bool) (int, bool) {
	if max <= 0 {
		return 0, false
	}
	if c.last {
		return max, true
	}
	ok := func(g *group) bool { return !g.hasThou && g.val >= 1 && g.val <= max }
	if c.choice >= 0 {
		for k := range groups {
			g := &groups[k]
			// "opcja dwa", "numer dwa", and "druga opcja" alike.
			if (g.first > c.choice && g.first <= c.choice+2) || g.last == c.choice-1 {
				if ok(g) {
					return g.val, true
				}
				return 0, false
			}
		}
	}
	if bare && len(groups) == 1 && ok(&groups[0]) {
		return groups[0].val, true
	}
	return 0, false
}

// periodDefault is the hour a part of the day stands for when no hour was said.
var periodDefault = [...]int{perMorning: 9, perForenoon: 10, perNoon: 12, perAfternoon: 14, perEvening: 18}

// parseSlotTime finds a callback time: an optional day ("dzisiaj",
// "jutro", "pojutrze", "w poniedziałek", "dwudziestego piątego listopada")
// and a clock time ("o piętnastej", "o dziesiątej trzydzieści", "o 15:30",
// "wpół do czwartej", "kwadrans po dziesiątej") or a part of the day ("jutro
// rano" 09:00, "po południu" 14:00). Hours 1-7 without a part of the day
// mean the afternoon (nobody books a call at 3 am). Without a day it is the
// next such time from now. The result must lie after now.
func parseSlotTime(toks []token, groups []group, c *slotContext, now time.Time, loc *time.Location) (time.Time, bool) {
	base := now.In(loc)
	y, mo, d := base.Date()
	off := 0

	var dom *group // day of month, when a month was named
	if c.monthTok >= 0 {
		for k := range groups {
			if g := &groups[k]; g.last < c.monthTok && g.last >= c.monthTok-2 {
				dom = g
			}
		}
		if dom == nil {
			return time.Time{}, false
		}
	}

	hour, minute := -1, 0
	for k := range groups {
		g := &groups[k]
		if g == dom {
			continue
		}
		h, m, ok := clockAt(toks, groups, k, c)
		if ok {
			hour, minute = h, m
		}
		break // only the first number after the date can be the hour
	}
	if hour < 0 {
		if c.period == perNone {
			return time.Time{}, false
		}
		hour = periodDefault[c.period]
	}
	if hour >= 1 && hour <= 11 && (c.period == perAfternoon || c.period == perEvening) {
		hour += 12
	} else if hour >= 1 && hour <= 7 && c.period == perNone {
		hour += 12
	}

	rollDay := false
	switch {
	case dom != nil:
		m := time.Month(toks[c.monthTok].w.month)
		if dom.val < 1 || dom.val > 31 || time.Date(y, m, dom.val, 0, 0, 0, 0, time.UTC).Day() != dom.val {
			return time.Time{}, false
		}
		t := time.Date(y, m, dom.val, hour, minute, 0, 0, loc)
		if !t.After(now) {
			t = time.Date(y+1, m, dom.val, hour, minute, 0, 0, loc)
			if t.Day() != dom.val { // 29 February
				return time.Time{}, false
			}
		}
		return t, true
	case c.weekday > 0:
		off = (c.weekday - 1 - int(base.Weekday()) + 7) % 7
		if off == 0 {
			off = 7 // "we wtorek" said on a Tuesday means next week's
		}
	case c.dayOff > 0:
		off = c.dayOff - 1
	default:
		rollDay = true
	}
	t := time.Date(y, mo, d+off, hour, minute, 0, 0, loc)
	if rollDay && !t.After(now) {
		t = time.Date(y, mo, d+1, hour, minute, 0, 0, loc)
	}
	if !t.After(now) {
		return time.Time{}, false
	}
	return t, true
}

// clockAt reads a clock time starting at groups[k]. It needs evidence that
// the number is an hour: a marker before it ("o", "na", "godzina"), an
// ordinal ("piętnastej"), minutes after it, a digit run, or a named day or
// part of the day.
func clockAt(toks []token, groups []group, k int, c *slotContext) (hour, minute int, ok bool) {
	g := &groups[k]
	if g.hasThou || g.val < 0 || g.val > 23 {
		return 0, 0, false
	}
	hour = g.val
	prev := func(n int) uint16 { // flags of the token n before the hour
		if i := g.first - n; i >= 0 {
			return toks[i].w.flags
		}
		return 0
	}
	evidence := g.ord || g.numeric() || c.hasDay() || c.period != perNone || prev(1)&fMarker != 0
	switch {
	case prev(1)&fTo != 0 && prev(2)&fHalfTo != 0: // wpół do czwartej = 3:30
		hour, minute, evidence = (hour+23)%24, 30, true
	case prev(1)&fAfter != 0 && prev(2)&fQuarter != 0: // kwadrans po dziesiątej
		minute, evidence = 15, true
	case prev(1)&fQuarter != 0 && prev(2)&fIn != 0: // za kwadrans dziesiąta = 9:45
		hour, minute, evidence = (hour+23)%24, 45, true
	default:
		if k+1 < len(groups) {
			m, said, valid := minutesAt(groups, k+1, g.last)
			if said && !valid {
				return 0, 0, false // "15:75"
			}
			if said {
				minute, evidence = m, true
			}
		}
	}
	return hour, minute, evidence
}

// minutesAt reads minutes from groups[k] if it directly follows the hour
// (token index hourLast): "trzydzieści", "czterdzieści pięć", "30", ":05",
// "zero pięć". A lone unit word is not minutes: "jeden dwa" is a digit
// string, not 1:02. said reports minutes were given; valid that they are 0-59.
func minutesAt(groups []group, k, hourLast int) (minute int, said, valid bool) {
	m := &groups[k]
	if m.first != hourLast+1 || m.ord {
		return 0, false, false
	}
	if m.zeros == 1 {
		if k+1 < len(groups) { // "zero pięć" = :05
			if n := &groups[k+1]; n.first == m.last+1 && !n.ord && n.cls == clsUnit && n.words == 1 {
				return n.val, true, true
			}
		}
		return 0, true, true
	}
	if !m.numeric() && m.words == 1 && m.cls != clsTeen && m.cls != clsTens {
		return 0, false, false
	}
	if m.hasThou || m.zeros > 1 || m.val < 0 || m.val > 59 {
		return 0, true, false
	}
	return m.val, true, true
}
