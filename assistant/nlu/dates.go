package nlu

import "time"

// parseBirthDate finds a date of birth in a transcript. It understands
//   - a month name: "drugiego stycznia osiemdziesiątego roku",
//     "drugi stycznia tysiąc dziewięćset osiemdziesiąt", "2 stycznia 1980";
//   - three numbers: "02.01.1980", "dwa jeden osiemdziesiąt",
//     "drugiego pierwszego osiemdziesiątego";
//   - four numbers with the year split in two: "dwa jeden dziewiętnaście osiemdziesiąt";
//   - a digit string of 8 (DDMMYYYY) or 6 (DDMMYY) digits, however spoken.
//
// Two-digit years 00..(now's year % 100) are 20xx, others 19xx. The date
// must exist, lie in 1900..now and is returned as UTC midnight.
func parseBirthDate(toks []token, groups []group, now time.Time) (time.Time, bool) {
	for i := range toks {
		m := int(toks[i].w.month)
		if m == 0 {
			continue
		}
		// day: the number right before the month; year: the number after it.
		var day, year *group
		for k := range groups {
			g := &groups[k]
			if g.last < i {
				day = g
			} else if g.first > i && year == nil {
				year = g
			}
		}
		if day == nil || year == nil || day.last < i-2 {
			return time.Time{}, false
		}
		return makeBirthDate(year.val, m, day.val, year.numeric() && len(year.lit) == 4 || year.hasThou, now)
	}
	switch len(groups) {
	case 3:
		d, y := &groups[0], &groups[2]
		if d.hasThou { // ISO order: "1980-01-02"
			d, y = y, d
		}
		if t, ok := makeBirthDate(y.val, groups[1].val, d.val, y.hasThou, now); ok {
			return t, true
		}
	case 4:
		// "dziewiętnaście osiemdziesiąt": a year said as two two-digit halves.
		c, y := &groups[2], &groups[3]
		if (c.val == 19 || c.val == 20) && y.val >= 0 && y.val <= 99 && !y.hasThou {
			if t, ok := makeBirthDate(c.val*100+y.val, groups[1].val, groups[0].val, true, now); ok {
				return t, true
			}
		}
	}
	var buf [maxDigits + 8]byte
	d := collectDigits(groups, buf[:0])
	switch len(d) {
	case 8:
		return makeBirthDate(atoiSmall(d[4:8]), atoiSmall(d[2:4]), atoiSmall(d[0:2]), true, now)
	case 6:
		return makeBirthDate(atoiSmall(d[4:6]), atoiSmall(d[2:4]), atoiSmall(d[0:2]), false, now)
	}
	return time.Time{}, false
}

// makeBirthDate validates and builds the date. fullYear tells that y was
// said as a full year ("1980", "tysiąc dziewięćset…"), not two digits.
func makeBirthDate(y, m, d int, fullYear bool, now time.Time) (time.Time, bool) {
	if !fullYear {
		if y < 0 || y > 99 {
			return time.Time{}, false
		}
		if y <= now.Year()%100 {
			y += 2000
		} else {
			y += 1900
		}
	}
	if y < 1900 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 February rolled over into March
		return time.Time{}, false
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if t.After(today) {
		return time.Time{}, false
	}
	return t, true
}
