package speech

import (
	"regexp"
	"strings"
	"unicode"

	"hotline/telephony/speech/polish"
)

// abbreviations are expanded before synthesis because espeak-ng spells
// them out letter by letter ("es kropka a kropka"). Patterns match whole
// words, case-insensitively, with optional spaces inside ("sp.z o. o.").
// Order matters: the longer company forms come first.
var abbreviations = []struct{ pattern, with string }{
	{`sp\.\s*z\s*o\.\s*o\.`, "spółka z ograniczoną odpowiedzialnością"},
	{`sp\.\s*k\.\s*a\.`, "spółka komandytowo-akcyjna"},
	{`sp\.\s*j\.`, "spółka jawna"},
	{`sp\.\s*k\.`, "spółka komandytowa"},
	{`s\.\s*a\.`, "es a"},
	{`sp\.`, "spółka"},
	{`ul\.`, "ulica"},
	{`al\.`, "aleja"},
	{`os\.`, "osiedle"},
	{`pl\.`, "plac"},
	{`nr\b\.?`, "numer"},
	{`tel\.`, "telefon"},
	{`m\.\s*in\.`, "między innymi"},
	{`np\.`, "na przykład"},
	{`tj\.`, "to jest"},
	{`itd\.`, "i tak dalej"},
}

// abbrevRE matches any abbreviation in one pass (a regexp per
// abbreviation made Normalize cost 100 µs per sentence); abbrevOne
// anchors each one to find which alternative matched.
var (
	abbrevRE  = regexp.MustCompile(`(?i)\b(?:` + joinPatterns() + `)`)
	abbrevOne = func() []*regexp.Regexp {
		res := make([]*regexp.Regexp, len(abbreviations))
		for i, a := range abbreviations {
			res[i] = regexp.MustCompile(`(?i)^(?:` + a.pattern + `)$`)
		}
		return res
	}()
)

func joinPatterns() string {
	ps := make([]string, len(abbreviations))
	for i, a := range abbreviations {
		ps[i] = a.pattern
	}
	return strings.Join(ps, "|")
}

func expandAbbreviation(m string) string {
	for i, re := range abbrevOne {
		if re.MatchString(m) {
			return abbreviations[i].with
		}
	}
	return m
}

// digitRun finds numbers left in free text (a creditor called "Bank 24").
var digitRun = regexp.MustCompile(`\d+`)

// Normalize prepares text for a TTS engine: Polish company and address
// abbreviations are expanded ("S.A." → "es a", "sp. z o.o." → "spółka z
// ograniczoną odpowiedzialnością", "ul." → "ulica"), numbers left in free
// text become words (up to three digits as a cardinal, longer ones digit by
// digit, because espeak-ng merges digit groups into huge numbers), symbols
// become words or pauses, characters a TTS engine would read aloud (quotes,
// brackets, asterisks, slashes) are dropped, and whitespace is collapsed.
// The result starts with a letter, so it can never be taken for a
// command-line option.
func Normalize(text string) string {
	text = abbrevRE.ReplaceAllStringFunc(text, expandAbbreviation)
	text = digitRun.ReplaceAllStringFunc(text, func(d string) string {
		if len(d) <= 3 {
			var n int64
			for _, c := range d {
				n = n*10 + int64(c-'0')
			}
			return " " + polish.Cardinal(n) + " "
		}
		return " " + polish.Digits(d) + " "
	})
	var b strings.Builder
	b.Grow(len(text))
	space := false
	emit := func(s string) {
		if space && b.Len() > 0 && !strings.HasPrefix(s, ",") && !strings.HasPrefix(s, ".") {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(s)
	}
	for _, r := range text {
		switch {
		case unicode.IsSpace(r):
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			emit(string(r))
		case r == ',' || r == '.' || r == '?' || r == '!' || r == ':' || r == ';':
			emit(string(r))
			space = true
		case r == '\'' || r == '’':
			// Apostrophes inside names (O'Brien) are silent.
		case r == '-':
			// A hyphen joins words (Kowalska-Nowak); a free-standing one is
			// a pause, written as a comma.
			if space {
				emit(",")
				space = true
			} else {
				emit("-")
			}
		case r == '–' || r == '—' || r == '(' || r == ')' || r == '[' || r == ']':
			emit(",")
			space = true
		case r == '&':
			space = true
			emit("i")
			space = true
		case r == '%':
			space = true
			emit("procent")
			space = true
		case r == '+':
			space = true
			emit("plus")
			space = true
		case r == '@':
			space = true
			emit("małpa")
			space = true
		default:
			// Quotes, slashes, asterisks, #, symbols: read literally by
			// espeak-ng ("gwiazdka"), so they become word breaks.
			space = true
		}
	}
	out := b.String()
	// Drop pauses and punctuation before the first word and doubled pauses.
	out = strings.TrimLeftFunc(out, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, dup := range [][2]string{{", ,", ","}, {",,", ","}, {",.", "."}, {".,", "."}} {
		for strings.Contains(out, dup[0]) {
			out = strings.ReplaceAll(out, dup[0], dup[1])
		}
	}
	return strings.TrimSpace(out)
}

// speakable reports whether text has anything a TTS engine could say (a
// letter or a digit), without the cost of Normalize.
func speakable(text string) bool {
	return strings.IndexFunc(text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}
