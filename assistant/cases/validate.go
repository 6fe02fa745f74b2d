package cases

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"hotline/dialogs"
)

// Problem is one thing wrong with a case file or a case.
type Problem struct {
	// File is the file name given to the parser; "" for cases checked in
	// memory (Validate, Book.Import).
	File string `json:"file,omitempty"`
	// Line is the 1-based line in File (0: the file as a whole). For cases
	// checked in memory it is the 1-based position of the case in the slice.
	Line int `json:"line,omitempty"`
	// Field is the column or key, "header" for the CSV header row, or ""
	// for a problem with the whole row or file.
	Field string `json:"field,omitempty"`
	// Msg says what is wrong, quoting the offending value.
	Msg string `json:"msg"`
}

// String formats the problem as "file:line: field: msg" (parts that are
// not set are left out; in-memory cases read "case N: field: msg").
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "case %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ImportError lists every problem found in a case file or a batch of cases
// (up to Options.MaxProblems). Nothing is imported when it is returned.
type ImportError struct {
	Problems []Problem
	// Omitted counts the problems found beyond the cap and not listed.
	Omitted int
}

// Error lists the problems, one per line.
func (e *ImportError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "\n… and %d more problems", e.Omitted)
	}
	return b.String()
}

// collector gathers problems up to a cap.
type collector struct {
	file    string
	max     int
	list    []Problem
	omitted int
}

func (c *collector) add(line int, field, msg string) {
	if len(c.list) >= c.max {
		c.omitted++
		return
	}
	c.list = append(c.list, Problem{File: c.file, Line: line, Field: field, Msg: msg})
}

func (c *collector) failed() bool { return len(c.list) > 0 }

// err is the *ImportError for the problems, or nil when there are none.
func (c *collector) err() error {
	if !c.failed() {
		return nil
	}
	return &ImportError{Problems: c.list, Omitted: c.omitted}
}

// Limits for dates and text fields.
const (
	minYear    = 1900 // earliest date in a case file
	maxYear    = 2199 // latest date in a case file
	maxTextLen = 200  // characters in a name or creditor
	accountLen = 26   // digits in a Polish bank account number (NRB)
)

// phonePattern is E.164: "+", a non-zero country code digit, 8 to 15 digits.
var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// Validate checks a batch of cases as Book.Import does: every case valid
// and case numbers unique. Problems name the case by its 1-based position.
func Validate(cs []Case, opt Options) error {
	s := opt.settings()
	col := &collector{max: s.maxProblems}
	seen := make(map[string]int, len(cs))
	for i, c := range cs {
		pos := i + 1
		validateCase(c, s, func(f int, msg string) { col.add(pos, columns[f], msg) })
		if c.Number == "" {
			continue
		}
		if first, dup := seen[c.Number]; dup {
			col.add(pos, columns[colCaseNumber], fmt.Sprintf("%q is already case %d", c.Number, first))
			continue
		}
		seen[c.Number] = pos
	}
	return col.err()
}

// Validate checks one case; problems carry only the field.
func (c Case) Validate(opt Options) error {
	col := &collector{max: opt.settings().maxProblems}
	validateCase(c, opt.settings(), func(f int, msg string) { col.add(0, columns[f], msg) })
	return col.err()
}

// validateCase checks a typed case and reports each problem against the
// column it came from. The parsers call it after converting text, so a rule
// lives in one place whether the case came from a file or from code.
func validateCase(c Case, s settings, add func(col int, msg string)) {
	switch {
	case c.Number == "":
		add(colCaseNumber, "is required")
	case !allDigits(c.Number) || !s.number.MatchString(c.Number):
		add(colCaseNumber, fmt.Sprintf("%q is not a case number matching %s", c.Number, s.numberShown))
	}
	if msg := textProblem(c.DebtorName); msg != "" {
		add(colDebtorName, msg)
	}
	if msg := dateProblem(c.BirthDate); msg != "" {
		add(colBirthDate, msg)
	} else if y, m, d := s.now().Date(); !c.BirthDate.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		add(colBirthDate, fmt.Sprintf("%q is not in the past", c.BirthDate.Format(time.DateOnly)))
	}
	switch {
	case c.Phone == "":
		add(colPhone, "is required")
	case !phonePattern.MatchString(c.Phone):
		add(colPhone, fmt.Sprintf("%q is not an E.164 phone number like +48600100200", c.Phone))
	}
	if msg := textProblem(c.Creditor); msg != "" {
		add(colCreditor, msg)
	}
	for _, a := range [...]struct {
		col int
		v   int64
	}{{colPrincipal, c.Principal}, {colInterest, c.Interest}, {colFees, c.Fees}} {
		if msg := amountProblem(a.v, false); msg != "" {
			add(a.col, msg)
		}
	}
	switch {
	case c.BankAccount == "":
		add(colBankAccount, "is required")
	case len(c.BankAccount) != accountLen || !allDigits(c.BankAccount):
		add(colBankAccount, fmt.Sprintf("%q is not a 26-digit bank account number", c.BankAccount))
	}
	paymentProblems(c.LastPayment, colLastPaymentDate, add)
	paymentProblems(c.NextInstallment, colNextInstallmentDate, add)
}

// paymentProblems checks a payment; its amount column follows its date column.
func paymentProblems(p *dialogs.Payment, dateCol int, add func(int, string)) {
	if p == nil {
		return
	}
	if msg := dateProblem(p.Date); msg != "" {
		add(dateCol, msg)
	}
	if msg := amountProblem(p.Amount, true); msg != "" {
		add(dateCol+1, msg)
	}
}

func textProblem(s string) string {
	switch {
	case s == "":
		return "is required"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.TrimSpace(s) != s:
		return fmt.Sprintf("%q has spaces at the start or end", s)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }) >= 0:
		return fmt.Sprintf("%q contains control characters", s)
	case utf8.RuneCountInString(s) > maxTextLen:
		return fmt.Sprintf("is longer than %d characters", maxTextLen)
	}
	return ""
}

// dateProblem checks a calendar date: set, UTC midnight, years 1900–2199.
func dateProblem(t time.Time) string {
	if t.IsZero() {
		return "is required"
	}
	y, m, d := t.Date()
	if t.Location() != time.UTC || !t.Equal(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return fmt.Sprintf("%s is not a calendar date (UTC midnight)", t.Format(time.RFC3339Nano))
	}
	if y < minYear || y > maxYear {
		return fmt.Sprintf("%q is not between %d-01-01 and %d-12-31", t.Format(time.DateOnly), minYear, maxYear)
	}
	return ""
}

// amountProblem checks an amount's range; payments must be more than zero.
func amountProblem(v int64, payment bool) string {
	switch {
	case v < 0:
		return fmt.Sprintf("%q is negative", FormatAmount(v))
	case v > MaxAmount:
		return fmt.Sprintf("%q is more than %s", FormatAmount(v), FormatAmount(MaxAmount))
	case payment && v == 0:
		return fmt.Sprintf("%q must be more than 0", FormatAmount(v))
	}
	return ""
}
