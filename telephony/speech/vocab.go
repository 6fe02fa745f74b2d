package speech

import (
	"slices"

	"hotline/telephony/speech/polish"
)

// Vocabulary returns every word the verbalizer can produce for value
// segments (amounts, counts, dates, times, digit strings and account
// numbers: everything say.Words speaks except free text), sorted and
// unique. `hotline prompts render` renders one clip per word, so that pack
// mode can speak any value by joining clips.
//
// The enumeration is systematic rather than a hand-kept list, so a change
// in the verbalizer shows up here: every group 0–999 at every scale of an
// int64 covers the cardinals (Polish words are built group by group), all
// grosze 0–99 with the three złoty forms cover amounts, every day and month
// and every year 1–9999 cover dates, and all 24×60 minutes cover times.
func Vocabulary() []string {
	set := map[string]struct{}{}
	add := func(s string) {
		for _, t := range splitWords(s) {
			if !t.pause {
				set[t.word] = struct{}{}
			}
		}
	}
	// Cardinals: n × 1000^k for every group value n and scale k that fits.
	const maxInt64 = int64(^uint64(0) >> 1)
	for scale := int64(1); ; scale *= 1000 {
		for n := int64(0); n < 1000; n++ {
			if n > maxInt64/scale {
				break
			}
			add(polish.Cardinal(n * scale))
		}
		if scale > maxInt64/1000 {
			break
		}
	}
	add(polish.Cardinal(-1))
	// Amounts: złote 0, 1, 2 and 5 take all three noun forms; grosze 0–99
	// likewise; negative sums start with "minus".
	for _, zl := range []int64{0, 1, 2, 5} {
		for gr := int64(0); gr < 100; gr++ {
			add(polish.Amount(zl*100 + gr))
		}
	}
	add(polish.Amount(-1))
	// Dates: day and month names, and every year say.Words accepts.
	for m := 1; m <= 12; m++ {
		for d := 1; d <= 31; d++ {
			add(polish.DateNoYear(m, d))
		}
	}
	for y := 1; y <= 9999; y++ {
		add(polish.Date(y, 1, 1))
	}
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			add(polish.Time(h, m))
		}
	}
	add(polish.Digits("0123456789/-*#"))
	add(polish.Account("12 3456 7890"))
	words := make([]string, 0, len(set))
	for w := range set {
		words = append(words, w)
	}
	slices.Sort(words)
	return words
}
