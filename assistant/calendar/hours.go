package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrHours is wrapped by every ParseHours error.
var ErrHours = errors.New("calendar: bad hours")

// maxScanDays bounds Next's search: a year and a bit covers any weekly
// pattern plus runs of holidays.
const maxScanDays = 400

// Interval is an opening interval on one day, [From, To) in minutes since
// local midnight (wall clock), 0 ≤ From < To ≤ 1440.
type Interval struct {
	From, To int
}

// Span is an opening interval turned into instants on one date.
type Span struct {
	Start, End time.Time // [Start, End)
}

// dayNames are the rule keywords, indexed by time.Weekday; "hol" (public
// holidays) is handled separately.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ruleOrder is the order days are written in a rule ("mon-fri"), Monday first.
var ruleOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// Hours are weekly opening hours in a location. Public holidays are closed
// unless a "hol" rule gives them hours. The zero Hours is never open.
type Hours struct {
	loc     *time.Location
	week    [7][]Interval // by time.Weekday
	holiday []Interval
}

// ParseHours parses opening-hours rules evaluated in loc. Each rule is
// "DAYS RANGES": DAYS is a comma list of days or forward day ranges
// (mon tue wed thu fri sat sun, and hol for public holidays), RANGES a
// comma list of HH:MM-HH:MM (end may be 24:00). A rule string may hold
// several rules separated by ";". Example:
//
//	ParseHours(loc, "mon-fri 08:00-20:00", "sat 09:00-13:00")
//	ParseHours(loc, "mon-fri 08:00-12:00,13:00-17:00; hol 10:00-12:00")
func ParseHours(loc *time.Location, rules ...string) (Hours, error) {
	if loc == nil {
		return Hours{}, fmt.Errorf("%w: nil location", ErrHours)
	}
	h := Hours{loc: loc}
	n := 0
	for _, r := range rules {
		for rule := range strings.SplitSeq(r, ";") {
			rule = strings.TrimSpace(rule)
			if rule == "" {
				continue
			}
			n++
			if err := h.addRule(rule); err != nil {
				return Hours{}, fmt.Errorf("%w: rule %q: %w", ErrHours, rule, err)
			}
		}
	}
	if n == 0 {
		return Hours{}, fmt.Errorf("%w: no rules (want e.g. \"mon-fri 09:00-17:00\")", ErrHours)
	}
	for i := range h.week {
		h.week[i] = merge(h.week[i])
	}
	h.holiday = merge(h.holiday)
	return h, nil
}

func (h *Hours) addRule(rule string) error {
	f := strings.Fields(rule)
	if len(f) < 2 {
		return errors.New(`want "DAYS HH:MM-HH:MM", e.g. "mon-fri 09:00-17:00"`)
	}
	days, ranges := f[0], strings.Join(f[1:], "")
	var ivs []Interval
	for rg := range strings.SplitSeq(ranges, ",") {
		iv, err := parseRange(rg)
		if err != nil {
			return err
		}
		ivs = append(ivs, iv)
	}
	for d := range strings.SplitSeq(strings.ToLower(days), ",") {
		if d == "hol" {
			h.holiday = append(h.holiday, ivs...)
			continue
		}
		from, to, isRange := strings.Cut(d, "-")
		a, err := weekdayIndex(from)
		if err != nil {
			return err
		}
		b := a
		if isRange {
			if b, err = weekdayIndex(to); err != nil {
				return err
			}
			if b < a {
				return fmt.Errorf("day range %q goes backwards (write days Monday first, e.g. \"sat-sun\")", d)
			}
		}
		for i := a; i <= b; i++ {
			wd := ruleOrder[i]
			h.week[wd] = append(h.week[wd], ivs...)
		}
	}
	return nil
}

// weekdayIndex returns the index of a day keyword in ruleOrder.
func weekdayIndex(s string) (int, error) {
	for i, wd := range ruleOrder {
		if dayNames[wd] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q (want mon, tue, wed, thu, fri, sat, sun or hol)", s)
}

func parseRange(s string) (Interval, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Interval{}, fmt.Errorf("bad time range %q: want HH:MM-HH:MM", s)
	}
	from, err := parseClock(a)
	if err != nil {
		return Interval{}, err
	}
	to, err := parseClock(b)
	if err != nil {
		return Interval{}, err
	}
	if from >= 24*60 {
		return Interval{}, fmt.Errorf("bad time range %q: 24:00 can only end a range", s)
	}
	if to <= from {
		return Interval{}, fmt.Errorf("bad time range %q: end must be after start (ranges cannot cross midnight)", s)
	}
	return Interval{From: from, To: to}, nil
}

// parseClock parses HH:MM (00:00-24:00) into minutes since midnight.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, fmt.Errorf("bad time %q: want HH:MM", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q: want HH:MM between 00:00 and 24:00", s)
	}
	return h*60 + m, nil
}

// merge sorts intervals and joins overlapping or touching ones.
func merge(ivs []Interval) []Interval {
	if len(ivs) == 0 {
		return nil
	}
	slices.SortFunc(ivs, func(a, b Interval) int { return a.From - b.From })
	out := []Interval{ivs[0]}
	for _, iv := range ivs[1:] {
		last := &out[len(out)-1]
		if iv.From <= last.To {
			last.To = max(last.To, iv.To)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// IsZero reports whether h has no rules (never open).
func (h Hours) IsZero() bool { return h.loc == nil }

// Location returns the location the hours are evaluated in.
func (h Hours) Location() *time.Location { return h.loc }

// Intervals returns the opening intervals on the date of t (read in the
// hours' location): the holiday hours on a public holiday, else the
// weekday's hours.
func (h Hours) Intervals(t time.Time) []Interval {
	if h.loc == nil {
		return nil
	}
	lt := t.In(h.loc)
	if hol, _ := IsHoliday(lt); hol {
		return h.holiday
	}
	return h.week[lt.Weekday()]
}

// Spans returns the opening intervals on the date of t as instants. Wall
// clock times are resolved in the location, so a span on a DST change day
// is an hour shorter or longer.
func (h Hours) Spans(t time.Time) []Span {
	ivs := h.Intervals(t)
	if len(ivs) == 0 {
		return nil
	}
	y, m, d := t.In(h.loc).Date()
	out := make([]Span, len(ivs))
	for i, iv := range ivs {
		out[i] = Span{
			Start: time.Date(y, m, d, 0, iv.From, 0, 0, h.loc),
			End:   time.Date(y, m, d, 0, iv.To, 0, 0, h.loc),
		}
	}
	return out
}

// span returns the span containing t, if open.
func (h Hours) span(t time.Time) (Span, bool) {
	for _, s := range h.Spans(t) {
		if !t.Before(s.Start) && t.Before(s.End) {
			return s, true
		}
	}
	return Span{}, false
}

// Open reports whether t falls inside the opening hours.
func (h Hours) Open(t time.Time) bool {
	_, ok := h.span(t)
	return ok
}

// Within reports whether the whole of [from, to) lies inside one opening
// interval.
func (h Hours) Within(from, to time.Time) bool {
	if !to.After(from) {
		return false
	}
	s, ok := h.span(from)
	return ok && !to.After(s.End)
}

// Next returns the first moment at or after t when the hours are open: t
// itself when open now. It returns the zero time when nothing opens
// within about a year (e.g. zero Hours).
func (h Hours) Next(t time.Time) time.Time {
	if h.loc == nil {
		return time.Time{}
	}
	if h.Open(t) {
		return t
	}
	y, m, d := t.In(h.loc).Date()
	for i := range maxScanDays {
		// Noon is never inside a DST gap, so it safely names the date.
		day := time.Date(y, m, d+i, 12, 0, 0, 0, h.loc)
		for _, s := range h.Spans(day) {
			if !s.Start.Before(t) && h.Open(s.Start) {
				return s.Start
			}
		}
	}
	return time.Time{}
}

// String renders the hours as rules ParseHours accepts.
func (h Hours) String() string {
	if h.loc == nil {
		return ""
	}
	var rules []string
	for i := 0; i < len(ruleOrder); {
		ivs := h.week[ruleOrder[i]]
		j := i + 1
		for j < len(ruleOrder) && slices.Equal(h.week[ruleOrder[j]], ivs) {
			j++
		}
		if len(ivs) > 0 {
			days := dayNames[ruleOrder[i]]
			if j-1 > i {
				days += "-" + dayNames[ruleOrder[j-1]]
			}
			rules = append(rules, days+" "+formatIntervals(ivs))
		}
		i = j
	}
	if len(h.holiday) > 0 {
		rules = append(rules, "hol "+formatIntervals(h.holiday))
	}
	return strings.Join(rules, "; ")
}

func formatIntervals(ivs []Interval) string {
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = fmt.Sprintf("%02d:%02d-%02d:%02d", iv.From/60, iv.From%60, iv.To/60, iv.To%60)
	}
	return strings.Join(parts, ",")
}
