// Package cases is the case book: the debtors' case files the assistant may
// talk about. It parses case files (CSV and YAML, see ARCHITECTURE.md §4
// "Case CSV"), validates them, and stores them in Redis with all-or-nothing
// imports (see Book).
//
// Money is int64 grosze end to end and amounts are parsed from their text,
// never through a float, so "0.10" is exactly 10 grosze.
//
// Privacy: a Case is personal data (name, date of birth, phone, amounts).
// Errors returned by Book never contain case data; the *ImportError of a
// parse quotes offending values so a person fixing the file can find them —
// print it to the operator, do not send it to a log.
package cases

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"hotline/dialogs"
)

// Case is one debtor's case file. Money is in grosze; dates are calendar
// dates at UTC midnight. The JSON form is what Book stores.
type Case struct {
	Number          string           `json:"case_number"`
	DebtorName      string           `json:"debtor_name"`
	BirthDate       time.Time        `json:"birth_date"`
	Phone           string           `json:"phone"` // E.164, "+48…"
	Creditor        string           `json:"creditor"`
	Principal       int64            `json:"principal"`
	Interest        int64            `json:"interest"`
	Fees            int64            `json:"fees"`
	BankAccount     string           `json:"bank_account"`               // 26 digits, no spaces
	LastPayment     *dialogs.Payment `json:"last_payment,omitempty"`     // nil when none
	NextInstallment *dialogs.Payment `json:"next_installment,omitempty"` // nil when none
}

// Balance is principal + interest + fees, in grosze.
func (c Case) Balance() int64 { return c.Principal + c.Interest + c.Fees }

// Dialog returns what the conversation flow may tell a verified caller. The
// payments are copied so the flow cannot change the book's values.
func (c Case) Dialog() dialogs.Case {
	return dialogs.Case{
		Number:          c.Number,
		Creditor:        c.Creditor,
		Principal:       c.Principal,
		Interest:        c.Interest,
		Fees:            c.Fees,
		BankAccount:     c.BankAccount,
		LastPayment:     clonePayment(c.LastPayment),
		NextInstallment: clonePayment(c.NextInstallment),
	}
}

func clonePayment(p *dialogs.Payment) *dialogs.Payment {
	if p == nil {
		return nil
	}
	cp := *p
	return &cp
}

// DefaultCaseNumberPattern is the default case-number format: 6 to 12 digits.
const DefaultCaseNumberPattern = `^[0-9]{6,12}$`

// defaultCaseNumber is DefaultCaseNumberPattern compiled (a constant table).
var defaultCaseNumber = regexp.MustCompile(DefaultCaseNumberPattern)

// DigitsPattern returns the case-number format "min to max digits", for
// configurations that give the length rather than a pattern.
func DigitsPattern(minDigits, maxDigits int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^[0-9]{%d,%d}$`, max(minDigits, 1), max(minDigits, maxDigits, 1)))
}

// Options tune parsing and validation. The zero value is the default.
type Options struct {
	// CaseNumber is the case-number format; nil means
	// DefaultCaseNumberPattern. It must match the whole number (it is
	// anchored here if it is not), and case numbers are digits only
	// whatever it says, because callers type them on a keypad.
	CaseNumber *regexp.Regexp
	// Now gives today's date for the "birth date is in the past" check;
	// nil means time.Now.
	Now func() time.Time
	// MaxProblems caps the problems an *ImportError lists (the rest are
	// counted); 0 means 50.
	MaxProblems int
}

// settings are Options with the defaults filled in.
type settings struct {
	number      *regexp.Regexp // anchored
	numberShown string         // the pattern as configured, for messages
	now         func() time.Time
	maxProblems int
}

func (o Options) settings() settings {
	s := settings{number: defaultCaseNumber, numberShown: DefaultCaseNumberPattern, now: o.Now, maxProblems: o.MaxProblems}
	if o.CaseNumber != nil {
		s.numberShown = o.CaseNumber.String()
		s.number = o.CaseNumber
		// Anchor it: an unanchored `[0-9]{6,12}` would accept 20 digits.
		if re, err := regexp.Compile(`^(?:` + o.CaseNumber.String() + `)$`); err == nil {
			s.number = re
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxProblems <= 0 {
		s.maxProblems = 50
	}
	return s
}

// ParseFile reads a case file, choosing the format by its extension: .csv,
// .yaml or .yml. Problems with the content (and an unknown extension) are
// an *ImportError; a file that cannot be read is the os error, wrapped.
func ParseFile(path string, opt Options) ([]Case, error) {
	var parse func(string, io.Reader, Options) ([]Case, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		parse = ParseCSV
	case ".yaml", ".yml":
		parse = ParseYAML
	default:
		return nil, &ImportError{Problems: []Problem{{File: path,
			Msg: fmt.Sprintf("unsupported file type %q, want .csv, .yaml or .yml", filepath.Ext(path))}}}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cases: %w", err)
	}
	defer f.Close()
	return parse(path, f, opt)
}
