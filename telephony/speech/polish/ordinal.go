package polish

import "strings"

// Ordinals are stored in the masculine nominative ("pierwszy", "drugi") and
// inflected by ending: every ordinal is an adjective, so the genitive is
// -ego, the feminine locative -ej and the feminine nominative -a, with the
// soft stems (drugi, trzeci) keeping their i where Polish spelling wants it.
var (
	ordUnits = [10]string{"zerowy", "pierwszy", "drugi", "trzeci", "czwarty", "piąty",
		"szósty", "siódmy", "ósmy", "dziewiąty"}
	ordTeens = [10]string{"dziesiąty", "jedenasty", "dwunasty", "trzynasty", "czternasty",
		"piętnasty", "szesnasty", "siedemnasty", "osiemnasty", "dziewiętnasty"}
	ordTens = [10]string{"", "", "dwudziesty", "trzydziesty", "czterdziesty", "pięćdziesiąty",
		"sześćdziesiąty", "siedemdziesiąty", "osiemdziesiąty", "dziewięćdziesiąty"}
	ordHundreds = [10]string{"", "setny", "dwusetny", "trzechsetny", "czterechsetny", "pięćsetny",
		"sześćsetny", "siedemsetny", "osiemsetny", "dziewięćsetny"}
	// ordThousands[k] is the round ordinal k×1000, a single compound word.
	ordThousands = [10]string{"", "tysięczny", "dwutysięczny", "trzytysięczny", "czterotysięczny",
		"pięciotysięczny", "sześciotysięczny", "siedmiotysięczny", "ośmiotysięczny",
		"dziewięciotysięczny"}
)

// ocase is the grammatical case (and gender) an ordinal is inflected into.
type ocase uint8

const (
	nomMasc ocase = iota // pierwszy, drugi (queue positions: "jest Pan trzeci")
	nomFem               // pierwsza, druga (queue positions: "jest Pani trzecia")
	genMasc              // pierwszego, drugiego (dates: day and year)
	locFem               // pierwszej, drugiej (times after "o": "o piętnastej")
)

// inflect turns one masculine nominative ordinal word into case c.
func inflect(word string, c ocase) string {
	if c == nomMasc {
		return word
	}
	// Hard stems end in -y (pierwszy → pierwsz-); soft ones in -i (trzeci → trzeci-),
	// except that after g the i is dropped before -a (drugi → druga).
	stem := strings.TrimSuffix(word, "y")
	switch c {
	case nomFem:
		if strings.HasSuffix(stem, "gi") {
			stem = strings.TrimSuffix(stem, "i")
		}
		return stem + "a"
	case genMasc:
		return stem + "ego"
	default: // locFem
		return stem + "ej"
	}
}

// Ordinal returns the masculine nominative ordinal of n: Ordinal(3) =
// "trzeci", Ordinal(21) = "dwudziesty pierwszy". Only the last two
// positions become ordinal ("sto pierwszy"); round hundreds and round
// thousands up to 9000 are single words ("setny", "dwutysięczny"). For
// n < 0, and for round thousands above 9000, it falls back to Cardinal.
func Ordinal(n int) string {
	return ordinal(n, nomMasc)
}

// OrdinalFeminine returns the feminine nominative ordinal of n ("pierwsza",
// "druga", "trzecia"), for agreeing with "Pani" or a feminine noun.
func OrdinalFeminine(n int) string {
	return ordinal(n, nomFem)
}

// ordinal builds the ordinal of n in case c (see Ordinal for the rules).
func ordinal(n int, c ocase) string {
	if n < 0 {
		return Cardinal(int64(n))
	}
	var w words
	v := uint64(n)
	switch {
	case v%100 != 0 || v == 0:
		if head := v - v%100; head > 0 {
			w.unsigned(head, masculine) // "dwa tysiące" in "dwa tysiące dwudziesty szósty"
		}
		w.ordinalBelow100(v%100, c)
	case v%1000 != 0:
		if head := v - v%1000; head > 0 {
			w.unsigned(head, masculine)
		}
		w.add(inflect(ordHundreds[v%1000/100], c))
	case v < 10000:
		w.add(inflect(ordThousands[v/1000], c))
	default:
		// "dwudziestotysięczny" and beyond are compounds no caller needs.
		w.unsigned(v, masculine)
	}
	return w.String()
}

// ordinalBelow100 appends the ordinal of 0..99; tens and units both inflect.
func (w *words) ordinalBelow100(v uint64, c ocase) {
	t, u := v/10, v%10
	switch {
	case t == 1:
		w.add(inflect(ordTeens[u], c))
	case t > 1:
		w.add(inflect(ordTens[t], c))
		if u != 0 {
			w.add(inflect(ordUnits[u], c))
		}
	default:
		w.add(inflect(ordUnits[u], c))
	}
}
