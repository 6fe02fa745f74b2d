package polish

// months holds the genitive month names used in dates ("piętnastego marca").
var months = [13]string{"", "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
	"lipca", "sierpnia", "września", "października", "listopada", "grudnia"}

// Date returns a calendar date in words as it is read in Polish: genitive
// ordinal day, genitive month, genitive ordinal year and "roku":
// Date(2026, 3, 15) = "piętnastego marca dwa tysiące dwudziestego szóstego
// roku". In the year only the last two positions are ordinal (1999 →
// "tysiąc dziewięćset dziewięćdziesiątego dziewiątego"), and round years are
// one word ("dwutysięcznego", "dwa tysiące setnego"). Callers validate the
// ranges; an out-of-range month is read as its number so this never panics.
func Date(year, month, day int) string {
	var w words
	w.dateNoYear(month, day)
	w.add(ordinal(year, genMasc))
	w.add("roku")
	return w.String()
}

// DateNoYear returns the day and month only: DateNoYear(3, 15) =
// "piętnastego marca", for dates in the current year ("do piętnastego marca").
func DateNoYear(month, day int) string {
	var w words
	w.dateNoYear(month, day)
	return w.String()
}

func (w *words) dateNoYear(month, day int) {
	w.add(ordinal(day, genMasc))
	if month >= 1 && month <= 12 {
		w.add(months[month])
		return
	}
	w.cardinal(int64(month), masculine)
}

// Time returns a clock time in the form that follows "o" (which is not
// included): the hour as a feminine ordinal in the locative ("godzina" is
// feminine) and the minutes as a cardinal, with a leading "zero" below ten
// as Poles read a digital clock. Time(15, 30) = "piętnastej trzydzieści",
// Time(15, 5) = "piętnastej zero pięć", Time(9, 0) = "dziewiątej",
// Time(0, 0) = "zerowej". Callers validate hour 0–23 and minute 0–59.
func Time(hour, minute int) string {
	var w words
	w.add(ordinal(hour, locFem))
	switch {
	case minute == 0:
	case minute > 0 && minute < 10:
		w.add(units[0])
		w.add(units[minute])
	default:
		w.cardinal(int64(minute), masculine)
	}
	return w.String()
}
