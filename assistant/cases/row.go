package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"hotline/dialogs"
)

// Column positions in columns.
const (
	colCaseNumber = iota
	colDebtorName
	colBirthDate
	colPhone
	colCreditor
	colPrincipal
	colInterest
	colFees
	colBankAccount
	colLastPaymentDate
	colLastPaymentAmount
	colNextInstallmentDate
	colNextInstallmentAmount
	numColumns
)

// columns are the case-file columns (CSV header, YAML keys), in the order
// of the contract in ARCHITECTURE.md §4. A payment's amount column follows
// its date column.
var columns = [numColumns]string{
	"case_number", "debtor_name", "birth_date", "phone", "creditor",
	"principal", "interest", "fees", "bank_account",
	"last_payment_date", "last_payment_amount",
	"next_installment_date", "next_installment_amount",
}

// Columns returns the case-file columns in contract order.
func Columns() []string { return slices.Clone(columns[:]) }

// columnIndex finds a column by its exact name.
func columnIndex(name string) (int, bool) {
	for i, c := range columns {
		if c == name {
			return i, true
		}
	}
	return 0, false
}

// row is one case's fields as text, as read from a file, with the line each
// field came from.
type row struct {
	vals  [numColumns]string
	lines [numColumns]int
}

// build converts the row's text and validates the result, reporting every
// problem to col. ok is false when there was any.
func (r *row) build(s settings, col *collector) (c Case, ok bool) {
	// Problems are gathered per column and reported in column order, text
	// problems and typed-rule problems alike.
	var probs [numColumns][]string
	bad := func(f int) bool { return len(probs[f]) > 0 }
	fail := func(f int, msg string) { probs[f] = append(probs[f], msg) }
	var msg string
	c.Number = r.vals[colCaseNumber]
	c.DebtorName = strings.TrimSpace(r.vals[colDebtorName])
	if c.BirthDate, msg = parseDate(r.vals[colBirthDate]); msg != "" {
		fail(colBirthDate, msg)
	}
	c.Phone = r.vals[colPhone]
	c.Creditor = strings.TrimSpace(r.vals[colCreditor])
	for _, a := range [...]struct {
		col int
		dst *int64
	}{{colPrincipal, &c.Principal}, {colInterest, &c.Interest}, {colFees, &c.Fees}} {
		v, err := parseAmountField(r.vals[a.col])
		if err != nil {
			fail(a.col, err.Error())
		}
		*a.dst = v
	}
	// Account numbers are often written in groups of four.
	c.BankAccount = strings.ReplaceAll(r.vals[colBankAccount], " ", "")
	if c.BankAccount != "" && (len(c.BankAccount) != accountLen || !allDigits(c.BankAccount)) {
		// Quote the account as written, not with its spaces taken out.
		fail(colBankAccount, fmt.Sprintf("%q is not a 26-digit bank account number", r.vals[colBankAccount]))
	}
	c.LastPayment = r.payment(colLastPaymentDate, fail)
	c.NextInstallment = r.payment(colNextInstallmentDate, fail)
	// The typed rules; a field whose text was already wrong is not
	// reported twice.
	var typed [numColumns][]string
	validateCase(c, s, func(f int, msg string) { typed[f] = append(typed[f], msg) })
	for f, msgs := range typed {
		if !bad(f) {
			probs[f] = msgs
		}
	}
	ok = true
	for f, msgs := range probs {
		for _, m := range msgs {
			col.add(r.lines[f], columns[f], m)
			ok = false
		}
	}
	return c, ok
}

// payment reads a date/amount pair: both empty is no payment, both set is a
// payment, one alone is a problem.
func (r *row) payment(dateCol int, fail func(int, string)) *dialogs.Payment {
	amountCol := dateCol + 1
	d, a := r.vals[dateCol], r.vals[amountCol]
	switch {
	case d == "" && a == "":
		return nil
	case d == "":
		fail(dateCol, "is required when "+columns[amountCol]+" is set")
		return nil
	case a == "":
		fail(amountCol, "is required when "+columns[dateCol]+" is set")
		return nil
	}
	date, msg := parseDate(d)
	if msg != "" {
		fail(dateCol, msg)
	}
	amount, err := ParseAmount(a)
	if err != nil {
		fail(amountCol, err.Error())
	}
	if msg != "" || err != nil {
		return nil
	}
	return &dialogs.Payment{Date: date, Amount: amount}
}

// parseDate reads "YYYY-MM-DD" as UTC midnight; msg says what is wrong.
func parseDate(s string) (t time.Time, msg string) {
	if s == "" {
		return time.Time{}, "is required"
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !allDigits(s[:4]+s[5:7]+s[8:]) {
		return time.Time{}, fmt.Sprintf("%q is not a date like 2026-03-15 (YYYY-MM-DD)", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Sprintf("%q is not a real calendar date", s)
	}
	return t, ""
}
