package nlu

import "strings"

// numClass is the grammatical role of a number word: it decides which words
// may follow it inside one compound number ("sto dwadzieścia trzy" = 123,
// but "jeden dwa" = two numbers).
type numClass uint8

const (
	clsNone        numClass = iota
	clsZero                 // zero: always a number of its own
	clsZeros                // "zera"/"zer": "dwa zera" = "00"
	clsUnit                 // 1-9
	clsTeen                 // 10-19
	clsTens                 // 20, 30, … 90
	clsHundred              // 100, 200, … 900
	clsThousand             // tysiąc (1000), also the ordinal 2000
	clsThousandMul          // tysiące/tysięcy: multiplies what came before
)

// Token flags: the roles a word plays outside numbers.
const (
	fMarker  uint16 = 1 << iota // "o", "na", "godzina": a clock time follows
	fChoice                     // "opcja", "numer", "termin": a numbered choice follows
	fLast                       // "ostatni": the last offered option
	fHalfTo                     // "wpół" (do piętnastej) = 14:30
	fQuarter                    // "kwadrans"
	fAfter                      // "po" (po południu, kwadrans po)
	fBefore                     // "przed" (przed południem)
	fIn                         // "za" (za kwadrans)
	fTo                         // "do" (wpół do)
)

// Periods of the day, for callback slots.
const (
	perNone      = iota
	perMorning   // rano: 09:00
	perForenoon  // przed południem: 10:00
	perNoon      // w południe: 12:00
	perAfternoon // po południu: 14:00, and 1-11 o'clock means pm
	perEvening   // wieczorem: 18:00, and 1-11 o'clock means pm
)

// word is everything the rules know about one normalised token.
type word struct {
	cls     numClass
	ord     bool  // ordinal form ("drugiego", "piętnastej")
	val     int32 // numeric value of a number word
	month   int8  // 1-12 for a month name
	weekday int8  // time.Weekday+1 for a weekday name (0 = none)
	dayOff  int8  // relative day + 1: dziś 1, jutro 2, pojutrze 3 (0 = none)
	period  int8  // per* for a part of the day (poludni* is resolved in context)
	flags   uint16
}

// ordinalEndings are the adjective endings of Polish ordinals with the
// diacritics stripped (ą → a merges the accusative/instrumental forms).
var ordinalEndings = [...]string{
	"y", "ego", "a", "ej", "e", "emu", "ym", "ych", "ymi", // hard stems: piąty, piątego
	"i", "iego", "iej", "ie", "iemu", "im", "ich", "imi", // soft stems: drugi, drugiego
}

// ordinalStems maps a stem to the ordinal's value; every ending above is
// accepted on every stem (a few produced forms are not real words, which
// is harmless: nobody says them).
var ordinalStems = [...]struct {
	stem string
	cls  numClass
	val  int32
}{
	{"pierwsz", clsUnit, 1}, {"drug", clsUnit, 2}, {"trzec", clsUnit, 3}, {"trzeci", clsUnit, 3},
	{"czwart", clsUnit, 4}, {"piat", clsUnit, 5}, {"szost", clsUnit, 6}, {"siodm", clsUnit, 7},
	{"osm", clsUnit, 8}, {"dziewiat", clsUnit, 9},
	{"dziesiat", clsTeen, 10}, {"jedenast", clsTeen, 11}, {"dwunast", clsTeen, 12}, {"trzynast", clsTeen, 13},
	{"czternast", clsTeen, 14}, {"pietnast", clsTeen, 15}, {"szesnast", clsTeen, 16},
	{"siedemnast", clsTeen, 17}, {"osiemnast", clsTeen, 18}, {"dziewietnast", clsTeen, 19},
	{"dwudziest", clsTens, 20}, {"trzydziest", clsTens, 30}, {"czterdziest", clsTens, 40},
	{"piecdziesiat", clsTens, 50}, {"szescdziesiat", clsTens, 60}, {"siedemdziesiat", clsTens, 70},
	{"osiemdziesiat", clsTens, 80}, {"dziewiecdziesiat", clsTens, 90},
	{"setn", clsHundred, 100}, {"dwusetn", clsHundred, 200}, {"trzysetn", clsHundred, 300},
	{"czterysetn", clsHundred, 400}, {"piecsetn", clsHundred, 500}, {"szescsetn", clsHundred, 600},
	{"siedemsetn", clsHundred, 700}, {"osiemsetn", clsHundred, 800}, {"dziewiecsetn", clsHundred, 900},
	{"tysieczn", clsThousand, 1000}, {"dwutysieczn", clsThousand, 2000},
}

// cardinals lists cardinal number words (normalised) with their value.
var cardinals = [...]struct {
	forms string // space-separated forms
	cls   numClass
	val   int32
}{
	{"zero", clsZero, 0}, {"zera zer", clsZeros, 0},
	{"jeden jedna jedno jednego jednej jedynka jedynke jedynki", clsUnit, 1},
	{"dwa dwie dwoch dwojka dwojke dwojki", clsUnit, 2},
	{"trzy trzech trojka trojke trojki", clsUnit, 3},
	{"cztery czterech czworka czworke czworki", clsUnit, 4},
	{"piec pieciu piatka piatke piatki", clsUnit, 5},
	{"szesc szesciu szostka szostke szostki", clsUnit, 6},
	{"siedem siedmiu siodemka siodemke siodemki", clsUnit, 7},
	{"osiem osmiu osemka osemke osemki", clsUnit, 8},
	{"dziewiec dziewieciu dziewiatka dziewiatke dziewiatki", clsUnit, 9},
	{"dziesiec dziesieciu dziesiatka", clsTeen, 10}, {"jedenascie", clsTeen, 11}, {"dwanascie", clsTeen, 12},
	{"trzynascie", clsTeen, 13}, {"czternascie", clsTeen, 14}, {"pietnascie", clsTeen, 15},
	{"szesnascie", clsTeen, 16}, {"siedemnascie", clsTeen, 17}, {"osiemnascie", clsTeen, 18},
	{"dziewietnascie", clsTeen, 19},
	{"dwadziescia", clsTens, 20}, {"trzydziesci", clsTens, 30}, {"czterdziesci", clsTens, 40},
	{"piecdziesiat", clsTens, 50}, {"szescdziesiat", clsTens, 60}, {"siedemdziesiat", clsTens, 70},
	{"osiemdziesiat", clsTens, 80}, {"dziewiecdziesiat", clsTens, 90},
	{"sto", clsHundred, 100}, {"dwiescie", clsHundred, 200}, {"trzysta", clsHundred, 300},
	{"czterysta", clsHundred, 400}, {"piecset", clsHundred, 500}, {"szescset", clsHundred, 600},
	{"siedemset", clsHundred, 700}, {"osiemset", clsHundred, 800}, {"dziewiecset", clsHundred, 900},
	{"tysiac", clsThousand, 1000}, {"tysiace tysiecy", clsThousandMul, 1000},
}

// monthForms are month names (nominative, genitive, locative), index+1 = month.
var monthForms = [...]string{
	"styczen stycznia styczniu", "luty lutego lutym", "marzec marca marcu",
	"kwiecien kwietnia kwietniu", "maj maja maju", "czerwiec czerwca czerwcu",
	"lipiec lipca lipcu", "sierpien sierpnia sierpniu", "wrzesien wrzesnia wrzesniu",
	"pazdziernik pazdziernika pazdzierniku", "listopad listopada listopadzie", "grudzien grudnia grudniu",
}

// weekdayForms are weekday names, index = time.Weekday.
var weekdayForms = [...]string{
	"niedziela niedziele niedzieli", "poniedzialek poniedzialku", "wtorek wtorku",
	"sroda srode srody srodzie", "czwartek czwartku", "piatek piatku", "sobota sobote soboty sobocie",
}

// otherWords are the remaining words the slot and choice rules react to.
var otherWords = [...]struct {
	forms string
	w     word
}{
	{"dzis dzisiaj", word{dayOff: 1}},
	{"jutro", word{dayOff: 2}},
	{"pojutrze", word{dayOff: 3}},
	{"rano rankiem", word{period: perMorning}},
	{"przedpoludniem", word{period: perForenoon}},
	{"popoludniu", word{period: perAfternoon}},
	{"wieczorem wieczor", word{period: perEvening}},
	{"o na godzina godzine godz okolo kolo od", word{flags: fMarker}},
	{"opcja opcje opcji opcjach numer nr termin terminu wariant propozycja propozycje", word{flags: fChoice}},
	{"ostatni ostatnia ostatnie ostatniego ostatniej", word{flags: fLast}},
	{"wpol", word{flags: fHalfTo}},
	{"kwadrans", word{flags: fQuarter}},
	{"po", word{flags: fAfter}},
	{"przed", word{flags: fBefore}},
	{"za", word{flags: fIn}},
	{"do", word{flags: fTo}},
}

// lexicon maps a normalised token to what the rules know about it. It is
// built once from the constant tables above.
var lexicon = buildLexicon()

func buildLexicon() map[string]word {
	m := make(map[string]word, 1024)
	for _, c := range cardinals {
		for f := range strings.FieldsSeq(c.forms) {
			m[f] = word{cls: c.cls, val: c.val}
		}
	}
	for _, o := range ordinalStems {
		for _, e := range ordinalEndings {
			f := o.stem + e
			if _, taken := m[f]; !taken { // cardinals win ("piecdziesiat" is not an ordinal)
				m[f] = word{cls: o.cls, val: o.val, ord: true}
			}
		}
	}
	for i, forms := range monthForms {
		for f := range strings.FieldsSeq(forms) {
			m[f] = word{month: int8(i + 1)}
		}
	}
	for i, forms := range weekdayForms {
		for f := range strings.FieldsSeq(forms) {
			m[f] = word{weekday: int8(i + 1)}
		}
	}
	for _, o := range otherWords {
		for f := range strings.FieldsSeq(o.forms) {
			w := m[f]
			w.dayOff |= o.w.dayOff
			w.period |= o.w.period
			w.flags |= o.w.flags
			m[f] = w
		}
	}
	return m
}
