package nlu

import (
	"unicode"
	"unicode/utf8"
)

// Bounds on the work done per call: a transcript longer than this is not a
// sensible answer to any question the bot asks, and the bound keeps the
// rules' cost flat whatever the speech-to-text engine sends.
const (
	maxInputBytes = 2048
	maxTokens     = 64
)

// token is one word or digit run of the normalised transcript.
type token struct {
	s   string // lower-case, Polish diacritics folded to ASCII
	num bool   // s is a run of ASCII digits
	sep byte   // punctuation right before the token ('.', ':', '-', '/', ','), else ' ' (0 for the first)
	w   word   // lexicon entry (zero when unknown)
}

// foldPolish maps a Polish letter with a diacritic (either case) to its
// lower-case ASCII base, or returns 0.
func foldPolish(r rune) byte {
	switch r {
	case 'ą', 'Ą':
		return 'a'
	case 'ć', 'Ć':
		return 'c'
	case 'ę', 'Ę':
		return 'e'
	case 'ł', 'Ł':
		return 'l'
	case 'ń', 'Ń':
		return 'n'
	case 'ó', 'Ó':
		return 'o'
	case 'ś', 'Ś':
		return 's'
	case 'ź', 'Ź', 'ż', 'Ż':
		return 'z'
	}
	return 0
}

func isSep(b byte) bool { return b == '.' || b == ':' || b == '-' || b == '/' || b == ',' }

// normalise lower-cases text and folds Polish diacritics, so "Piętnastej"
// and "pietnastej" match the same lexicon entry. Punctuation that carries
// meaning for dates and times (. : - / ,) is kept, everything else that is
// not a letter or digit becomes a space.
func normalise(text string) string {
	if len(text) > maxInputBytes {
		text = text[:maxInputBytes] // a cut rune decodes as RuneError: a space
	}
	buf := make([]byte, 0, len(text))
	for _, r := range text {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			buf = append(buf, byte(r))
		case r >= 'A' && r <= 'Z':
			buf = append(buf, byte(r+'a'-'A'))
		case r < utf8.RuneSelf:
			if isSep(byte(r)) {
				buf = append(buf, byte(r))
			} else {
				buf = append(buf, ' ')
			}
		default:
			if f := foldPolish(r); f != 0 {
				buf = append(buf, f)
			} else if unicode.IsLetter(r) {
				// Foreign letters stay part of their word so it matches nothing
				// instead of splitting into accidental keywords.
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			} else {
				buf = append(buf, ' ')
			}
		}
	}
	return string(buf)
}

// tokenize splits the normalised text into words and digit runs (a change
// between letters and digits also splits: "15tej" → "15", "tej") and looks
// each up in the lexicon. It appends to dst and stops at maxTokens.
func tokenize(text string, dst []token) []token {
	s := normalise(text)
	var sep byte
	i := 0
	for i < len(s) && len(dst) < maxTokens {
		c := s[i]
		if c == ' ' || isSep(c) {
			if isSep(c) && (sep == 0 || sep == ' ') {
				sep = c
			} else if sep == 0 && len(dst) > 0 {
				sep = ' '
			}
			i++
			continue
		}
		digit := c >= '0' && c <= '9'
		j := i + 1
		for j < len(s) {
			d := s[j]
			if d == ' ' || isSep(d) || (d >= '0' && d <= '9') != digit {
				break
			}
			j++
		}
		t := token{s: s[i:j], num: digit, sep: sep}
		if len(dst) > 0 && t.sep == 0 {
			t.sep = ' ' // letters and digits glued together
		}
		if !digit {
			t.w = lexicon[t.s]
		}
		dst = append(dst, t)
		sep = 0
		i = j
	}
	return dst
}
