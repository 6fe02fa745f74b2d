package polish

import "strings"

// Digits reads an identifier (case number, phone number, PESEL) character
// by character, because the TTS engine would merge digit groups into large
// numbers: Digits("12/3") = "jeden dwa łamane przez trzy". Digits become
// their names ("zero" for 0); '/' is "łamane przez", '-' "myślnik", '*'
// "gwiazdka" and '#' "krzyżyk"; spaces and every other character are
// skipped.
func Digits(s string) string {
	var w words
	w.digits(s)
	return w.String()
}

func (w *words) digits(s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			w.add(units[c-'0'])
		case c == '/':
			w.add("łamane przez")
		case c == '-':
			w.add("myślnik")
		case c == '*':
			w.add("gwiazdka")
		case c == '#':
			w.add("krzyżyk")
		}
	}
}

// nrbLen is the length of a Polish account number (NRB): 2 check digits
// followed by 24 digits, written and read as 2 + 6 groups of 4.
const nrbLen = 26

// Account reads a bank account number digit by digit in groups separated
// by commas, so that the TTS pauses between groups the way the number is
// printed on a statement. Only the digits of s count (spaces, dashes and a
// "PL" prefix are ignored). A 26-digit NRB is grouped 2 + 6×4 ("dwa sześć,
// jeden zero jeden zero, …"); any other length in groups of four from the
// left. No digits → "".
func Account(s string) string {
	var d strings.Builder
	d.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			d.WriteByte(c)
		}
	}
	ds := d.String()
	var out strings.Builder
	group := func(g string) {
		if out.Len() > 0 {
			out.WriteString(", ")
		}
		out.WriteString(Digits(g))
	}
	if len(ds) == nrbLen {
		group(ds[:2])
		ds = ds[2:]
	}
	for len(ds) > 0 {
		n := min(4, len(ds))
		group(ds[:n])
		ds = ds[n:]
	}
	return out.String()
}
