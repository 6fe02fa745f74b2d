package nlu

import "strconv"

// group is one number the caller said: a digit run ("1980"), or a run of
// number words forming one compound number ("tysiąc dziewięćset
// osiemdziesiątego" = 1980, "dwanaście" = 12).
type group struct {
	val     int      // numeric value (-1 for a digit run too long to hold)
	zeros   int      // > 0: the group is that many zeros ("zero", "dwa zera")
	lit     string   // digit run as written, leading zeros kept ("02")
	ord     bool     // ends in an ordinal word ("drugiego")
	cls     numClass // class of the last word (clsNone for a digit run)
	words   int      // number words in the group (0 for a digit run)
	first   int      // index of its first token
	last    int      // index of its last token
	sep     byte     // token.sep of its first token
	hasThou bool     // contains a thousand (so it is a year-sized number)
}

// numeric reports whether the group came from a digit run.
func (g *group) numeric() bool { return g.lit != "" }

// appendDigits appends the digits the group stands for when numbers are
// read as a digit string (case numbers): "dwanaście trzydzieści cztery" is
// "12" then "34", a digit run keeps its leading zeros.
func (g *group) appendDigits(dst []byte) []byte {
	switch {
	case g.numeric():
		return append(dst, g.lit...)
	case g.zeros > 0:
		for range g.zeros {
			dst = append(dst, '0')
		}
		return dst
	default:
		return strconv.AppendInt(dst, int64(g.val), 10)
	}
}

// canFollow tells whether a number word of class next may continue a
// compound number whose last word had class prev: thousands, hundreds, tens
// and units, each at most once and in that order. A teen or unit ends it.
func canFollow(prev, next numClass) bool {
	switch prev {
	case clsThousand:
		return next == clsHundred || next == clsTens || next == clsTeen || next == clsUnit
	case clsHundred:
		return next == clsTens || next == clsTeen || next == clsUnit
	case clsTens:
		return next == clsUnit
	}
	return false
}

// numberGroups finds the numbers in toks. Any word that is not a number
// word ends the current number.
func numberGroups(toks []token, dst []group) []group {
	open := false // the last group may still grow
	for i := range toks {
		t := &toks[i]
		if t.num {
			g := group{val: atoiSmall(t.s), lit: t.s, first: i, last: i, sep: t.sep}
			if len(t.s) == 4 && g.val >= 1000 {
				g.hasThou = true
			}
			dst = append(dst, g)
			open = false
			continue
		}
		w := t.w
		if w.cls == clsNone {
			open = false
			continue
		}
		var cur *group
		if open && len(dst) > 0 && dst[len(dst)-1].last == i-1 {
			cur = &dst[len(dst)-1]
		}
		switch w.cls {
		case clsZero:
			dst = append(dst, group{zeros: 1, cls: clsZero, words: 1, first: i, last: i, sep: t.sep})
			open = false
			continue
		case clsZeros:
			// "dwa zera" = 00: rewrite a lone preceding unit into that many zeros.
			if cur != nil && cur.words == 1 && cur.cls == clsUnit && !cur.ord && cur.val >= 2 {
				cur.zeros, cur.val, cur.cls, cur.last = cur.val, 0, clsZero, i
			} else {
				dst = append(dst, group{zeros: 1, cls: clsZero, words: 1, first: i, last: i, sep: t.sep})
			}
			open = false
			continue
		case clsThousandMul:
			// "dwa tysiące", "pięć tysięcy": multiply the number so far.
			if cur != nil && !cur.ord && !cur.hasThou && cur.val > 0 && cur.val < 1000 {
				cur.val *= 1000
				cur.cls, cur.last, cur.hasThou = clsThousand, i, true
				cur.words++
			}
			continue // a stray "tysięcy" is no number of its own
		}
		if cur != nil && canFollow(cur.cls, w.cls) && (!cur.ord || w.ord) && !cur.numeric() {
			// An ordinal can only be continued by an ordinal: "dwudziestego
			// pierwszego" = 21, but "o dwudziestej pięć" is 20 and 5.
			cur.val += int(w.val)
			cur.cls, cur.last, cur.ord = w.cls, i, w.ord
			cur.words++
			if w.cls == clsThousand {
				cur.hasThou = true
			}
			continue
		}
		dst = append(dst, group{val: int(w.val), cls: w.cls, ord: w.ord, words: 1, first: i, last: i,
			sep: t.sep, hasThou: w.cls == clsThousand})
		open = true
	}
	return dst
}

// atoiSmall parses a digit run; runs too long for a meaningful value (they
// only matter as digit strings) give -1.
func atoiSmall[S ~string | ~[]byte](s S) int {
	if len(s) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// maxDigits bounds a collected digit string; longer is never a case number.
const maxDigits = 32

// collectDigits reads all numbers in order as one digit string, the way a
// caller dictates a case number: "jeden dwa trzy", "12 34 56",
// "dwanaście trzydzieści cztery", "sto dwadzieścia trzy".
func collectDigits(groups []group, dst []byte) []byte {
	for i := range groups {
		dst = groups[i].appendDigits(dst)
		if len(dst) > maxDigits {
			return dst[:0] // nonsense, not a number to act on
		}
	}
	return dst
}
