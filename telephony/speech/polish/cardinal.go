// Package polish turns numbers, sums of money, dates, clock times and digit
// strings into Polish words.
//
// It exists because the TTS engine's own text normalisation reads "zł",
// dates and long digit strings wrongly (see docs on espeak-ng in the speech
// reference), so everything the caller hears is put into words in Go first.
// The package is pure: no I/O, no state, no dependencies beyond the standard
// library, and every function is total (no panics, no errors); range checks
// belong to the caller (package say validates segments before calling here).
//
// Grammar in one paragraph: a counted noun takes one of three forms (Form):
// singular for exactly 1, the "few" form when the last digit is 2–4 and the
// last two digits are not 12–14, and the genitive plural otherwise (0, 5–21,
// 25–31, and every compound ending in 1: "dwadzieścia jeden złotych"). Scale
// words (tysiąc, milion, …) are counted nouns themselves and stand alone for
// one ("tysiąc", never "jeden tysiąc").
package polish

import "strings"

// Tables of cardinal words. Index = value of the digit (or teen - 10).
var (
	units = [10]string{"zero", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć"}
	teens = [10]string{"dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście",
		"piętnaście", "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście"}
	tens = [10]string{"", "", "dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt",
		"sześćdziesiąt", "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"}
	hundreds = [10]string{"", "sto", "dwieście", "trzysta", "czterysta", "pięćset",
		"sześćset", "siedemset", "osiemset", "dziewięćset"}
)

// scale is a power of 1000 named by a counted noun.
type scale struct{ one, few, many string }

// scales[i] names 1000^i (Polish long scale: miliard = 10^9, bilion = 10^12).
// Index 0 is the plain units group and has no noun. 1000^6 (trylion) is
// the largest power that fits in an int64.
var scales = [7]scale{
	{},
	{"tysiąc", "tysiące", "tysięcy"},
	{"milion", "miliony", "milionów"},
	{"miliard", "miliardy", "miliardów"},
	{"bilion", "biliony", "bilionów"},
	{"biliard", "biliardy", "biliardów"},
	{"trylion", "tryliony", "trylionów"},
}

// Gender of the counted noun; it changes only "jeden"/"jedna" and "dwa"/"dwie".
type gender uint8

const (
	masculine gender = iota
	feminine
)

// Cardinal returns n in words, in the masculine form used for counting
// złote, grosze and most nouns: Cardinal(22) = "dwadzieścia dwa",
// Cardinal(1000) = "tysiąc", Cardinal(-5) = "minus pięć".
func Cardinal(n int64) string {
	var w words
	w.cardinal(n, masculine)
	return w.String()
}

// CardinalFeminine returns n in words for counting feminine nouns such as
// "rata": "jedna", "dwie", "dwadzieścia dwie". Compounds ending in one keep
// "jeden" ("dwadzieścia jeden rat") and hundreds stay "dwieście".
func CardinalFeminine(n int64) string {
	var w words
	w.cardinal(n, feminine)
	return w.String()
}

// Form picks the form of a noun counted by n: one for exactly 1, few when
// the last digit is 2–4 and the last two digits are not 12–14, many for
// everything else (including 0). The sign of n is ignored, so prompts can
// agree with any Cardinal: Form(n, "rata", "raty", "rat").
func Form(n int64, one, few, many string) string {
	return form(abs(n), one, few, many)
}

func form(n uint64, one, few, many string) string {
	if n == 1 {
		return one
	}
	last, lastTwo := n%10, n%100
	if last >= 2 && last <= 4 && (lastTwo < 12 || lastTwo > 14) {
		return few
	}
	return many
}

// abs returns |n| as uint64, which also holds |math.MinInt64|.
func abs(n int64) uint64 {
	if n < 0 {
		return uint64(^n) + 1
	}
	return uint64(n)
}

// words accumulates space-separated words without double spaces.
type words struct{ b strings.Builder }

func (w *words) add(s string) {
	if s == "" {
		return
	}
	if w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(s)
}

func (w *words) String() string { return w.b.String() }

// cardinal appends n in words, "minus" first when negative.
func (w *words) cardinal(n int64, g gender) {
	if n < 0 {
		w.add("minus")
	}
	w.unsigned(abs(n), g)
}

// unsigned appends n in words, group by group from the largest scale.
func (w *words) unsigned(n uint64, g gender) {
	if n == 0 {
		w.add(units[0])
		return
	}
	if n == 1 && g == feminine {
		// Only a bare one agrees in gender; compounds keep "jeden".
		w.add("jedna")
		return
	}
	var groups [len(scales)]uint64
	for i, m := 0, n; m > 0; i, m = i+1, m/1000 {
		groups[i] = m % 1000
	}
	for i := len(scales) - 1; i >= 1; i-- {
		grp := groups[i]
		switch {
		case grp == 0:
			continue
		case grp == 1:
			w.add(scales[i].one) // "tysiąc", never "jeden tysiąc"
		default:
			w.group(grp, masculine) // tysiąc, milion… are masculine nouns
			w.add(form(grp, scales[i].one, scales[i].few, scales[i].many))
		}
	}
	if groups[0] != 0 {
		w.group(groups[0], g)
	}
}

// group appends a number 1..999 in words.
func (w *words) group(n uint64, g gender) {
	h, t, u := n/100, n/10%10, n%10
	w.add(hundreds[h])
	switch {
	case t == 1:
		w.add(teens[u])
		return
	case t > 1:
		w.add(tens[t])
	}
	switch {
	case u == 0:
	case u == 2 && g == feminine:
		w.add("dwie")
	default:
		w.add(units[u])
	}
}
