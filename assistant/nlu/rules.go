package nlu

import (
	"context"
	"time"

	"hotline/dialogs"
)

// RuleNLU understands Polish transcripts with keyword, number-word and date
// rules. It is offline, deterministic and fast (a few microseconds per
// call), so it is both the default understander and the LLM's fallback.
// It is safe for concurrent use.
type RuleNLU struct {
	loc *time.Location
}

var _ Understander = (*RuleNLU)(nil)

// NewRules returns the rule-based understander. loc is the zone spoken
// times are in (Europe/Warsaw); relative days ("jutro") are counted there.
func NewRules(loc *time.Location) *RuleNLU {
	if loc == nil {
		loc = time.UTC // a caller bug; UTC at least keeps results deterministic
	}
	return &RuleNLU{loc: loc}
}

// menuKeys maps a spoken menu number to the intent of that keypad key.
var menuKeys = [10]dialogs.IntentKind{
	0: dialogs.IntentConsultant, 1: dialogs.IntentDebt, 2: dialogs.IntentPayments,
	3: dialogs.IntentCallback, 4: dialogs.IntentComplaints, 9: dialogs.IntentRepeat,
}

// Understand turns one transcript into an intent, reading it as the answer
// to a question expecting exp. It never fails: what it cannot read is
// IntentUnknown. Source is always "rules".
func (r *RuleNLU) Understand(_ context.Context, exp dialogs.Expect, text string, now time.Time) (dialogs.Intent, error) {
	var tokBuf [maxTokens]token
	var grpBuf [16]group
	toks := tokenize(text, tokBuf[:0])
	groups := numberGroups(toks, grpBuf[:0])
	it := r.understand(exp, toks, groups, now.In(r.loc))
	it.Source = SourceRules
	return it, nil
}

func (r *RuleNLU) understand(exp dialogs.Expect, toks []token, groups []group, now time.Time) dialogs.Intent {
	hit := phrases.bestPhrase(toks)
	switch exp.Kind {
	case dialogs.ExpectCaseNumber:
		var buf [maxDigits + 8]byte
		d := collectDigits(groups, buf[:0])
		// A request ("połącz z konsultantem") beats a stray short number in it.
		if len(d) > 0 && !(hit.strong() && len(d) < 4) {
			return dialogs.Intent{Kind: dialogs.IntentDigits, Digits: string(d)}
		}
	case dialogs.ExpectBirthDate:
		if t, ok := parseBirthDate(toks, groups, now); ok {
			return dialogs.Intent{Kind: dialogs.IntentDate, Date: t}
		}
		if !hit.strong() && !hasMonth(toks) {
			// Eight digits that make no valid date ("31.04.1980") go to the
			// flow as DDMMYYYY keys would, so it counts a failed attempt
			// instead of asking again forever. Anything vaguer is unknown.
			var buf [maxDigits + 8]byte
			if d := collectDigits(groups, buf[:0]); len(d) == 8 {
				return dialogs.Intent{Kind: dialogs.IntentDigits, Digits: string(d)}
			}
		}
	case dialogs.ExpectMenu:
		if !hit.strong() {
			if k, ok := menuNumber(groups); ok {
				return dialogs.Intent{Kind: menuKeys[k]}
			}
		}
	case dialogs.ExpectChoice:
		c := scanSlotContext(toks)
		max := exp.Options
		if max <= 0 {
			max = 9 // one keypad key
		}
		if n, ok := parseChoice(toks, groups, &c, max, true); ok {
			return dialogs.Intent{Kind: dialogs.IntentChoice, Choice: n}
		}
	case dialogs.ExpectSlot:
		c := scanSlotContext(toks)
		timeSaid := c.hasDay() || c.period != perNone || markerBeforeNumber(toks, groups)
		if n, ok := parseChoice(toks, groups, &c, exp.Options, !timeSaid); ok {
			return dialogs.Intent{Kind: dialogs.IntentChoice, Choice: n}
		}
		if t, ok := parseSlotTime(toks, groups, &c, now, r.loc); ok {
			return dialogs.Intent{Kind: dialogs.IntentSlot, When: t}
		}
	}
	if hit.score > 0 && hit.intent != dialogs.IntentUnknown {
		return dialogs.Intent{Kind: hit.intent}
	}
	return dialogs.Intent{Kind: dialogs.IntentUnknown}
}

// menuNumber reads a spoken menu key: exactly one number 0-9 ("jeden",
// "dwójka", "opcja pierwsza", "numer 3"), that is a key of the menu.
func menuNumber(groups []group) (int, bool) {
	if len(groups) != 1 {
		return 0, false
	}
	g := &groups[0]
	v := g.val
	if g.zeros == 1 {
		v = 0
	}
	if g.numeric() && len(g.lit) != 1 || g.hasThou || v < 0 || v > 9 || g.zeros > 1 {
		return 0, false
	}
	if menuKeys[v] == "" {
		return 0, false
	}
	return v, true
}

// markerBeforeNumber reports "o"/"na"/"godzina" right before a number, or
// a number written as a clock time ("15:30").
func markerBeforeNumber(toks []token, groups []group) bool {
	for k := range groups {
		g := &groups[k]
		if g.first > 0 && toks[g.first-1].w.flags&fMarker != 0 {
			return true
		}
		if k > 0 && g.numeric() && g.sep == ':' {
			return true
		}
	}
	return false
}

// hasMonth reports a month name in the transcript.
func hasMonth(toks []token) bool {
	for i := range toks {
		if toks[i].w.month > 0 {
			return true
		}
	}
	return false
}
