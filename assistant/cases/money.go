package cases

import (
	"errors"
	"fmt"
	"strings"
)

// MaxAmount is the largest amount a case file may hold, 999 999 999 999.99
// zł, in grosze. It keeps every sum of amounts far from int64 overflow and
// within what the Polish number speller reads.
const MaxAmount int64 = 99_999_999_999_999

// maxAmountDigits is the number of złoty digits MaxAmount has.
const maxAmountDigits = 12

// ParseAmount parses a złoty amount written with a dot, "1234.56", "12.5"
// or "12", into grosze. It takes digits only: no sign, no thousands
// separators, no comma as the decimal mark, no exponent, no spaces, at most
// two decimal places. The text is parsed digit by digit, never as a float.
// The error's text is the problem alone (e.g. `"12,50" is not an amount like
// 1234.56`), ready to follow "file:line: field: ".
func ParseAmount(s string) (int64, error) {
	zl, gr, dot := strings.Cut(s, ".")
	if zl == "" || !allDigits(zl) || (dot && (gr == "" || len(gr) > 2 || !allDigits(gr))) {
		return 0, fmt.Errorf("%q is not an amount like 1234.56", s)
	}
	for len(zl) > 1 && zl[0] == '0' {
		zl = zl[1:]
	}
	if len(zl) > maxAmountDigits {
		return 0, fmt.Errorf("%q is more than %s", s, FormatAmount(MaxAmount))
	}
	var v int64
	for i := 0; i < len(zl); i++ {
		v = v*10 + int64(zl[i]-'0')
	}
	v *= 100
	switch len(gr) {
	case 1:
		v += int64(gr[0]-'0') * 10
	case 2:
		v += int64(gr[0]-'0')*10 + int64(gr[1]-'0')
	}
	return v, nil
}

// FormatAmount writes grosze as the case-file amount text, "1234.56".
func FormatAmount(grosze int64) string {
	sign := ""
	u := uint64(grosze)
	if grosze < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// errEmptyAmount is returned by amount fields that are required.
var errEmptyAmount = errors.New("is required")

// parseAmountField is ParseAmount with "" meaning missing.
func parseAmountField(s string) (int64, error) {
	if s == "" {
		return 0, errEmptyAmount
	}
	return ParseAmount(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
