package cases

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"hotline/dialogs"
)

// utf8BOM is what spreadsheet programs put before "case_number".
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// skipBOM returns r without a leading UTF-8 byte-order mark.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	return br
}

// ParseCSV reads a case CSV (ARCHITECTURE.md §4): a header row naming every
// column exactly once (any order), then one case per row. name is the file
// name used in problems. Every problem found is returned in one
// *ImportError ("cases.csv:4: principal: …"), and then no cases are; an
// error reading r is returned wrapped. A UTF-8 BOM and CRLF line ends are
// accepted.
func ParseCSV(name string, r io.Reader, opt Options) ([]Case, error) {
	s := opt.settings()
	col := &collector{file: name, max: s.maxProblems}
	cr := csv.NewReader(skipBOM(r))
	// Row lengths are checked below, so a short row is one clear problem
	// and the rows after it are still checked.
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		col.add(0, "", "file is empty, want a header row: "+strings.Join(columns[:], ","))
		return nil, col.err()
	case err != nil:
		if !csvSyntax(col, err) {
			return nil, fmt.Errorf("cases: read %s: %w", name, err)
		}
		return nil, col.err()
	}
	index, ok := headerIndex(header, col)
	if !ok {
		return nil, col.err()
	}
	width := len(header)

	var (
		out  []Case
		seen = make(map[string]int)
		rw   row
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// After a syntax error the reader's position in the quoting is
			// unknown; report it and stop rather than guess.
			if !csvSyntax(col, err) {
				return nil, fmt.Errorf("cases: read %s: %w", name, err)
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			col.add(line, "", fmt.Sprintf("has %d fields, want %d", len(rec), width))
			continue
		}
		for f, i := range index {
			rw.vals[f] = rec[i]
			rw.lines[f], _ = cr.FieldPos(i)
		}
		c, ok := rw.build(s, col)
		if !ok {
			continue
		}
		if first, dup := seen[c.Number]; dup {
			col.add(line, columns[colCaseNumber], fmt.Sprintf("%q is already on line %d", c.Number, first))
			continue
		}
		seen[c.Number] = line
		out = append(out, c)
	}
	if len(out) == 0 && !col.failed() {
		col.add(0, "", "no cases after the header row")
	}
	if err := col.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// headerIndex maps each column to its position in the header row, reporting
// unknown, repeated and missing columns at line 1.
func headerIndex(header []string, col *collector) (index [numColumns]int, ok bool) {
	for i := range index {
		index[i] = -1
	}
	ok = true
	for i, h := range header {
		f, known := columnIndex(h)
		switch {
		case !known:
			col.add(1, "header", fmt.Sprintf("unknown column %q (column %d)", h, i+1))
			ok = false
		case index[f] >= 0:
			col.add(1, "header", fmt.Sprintf("column %q is repeated (columns %d and %d)", h, index[f]+1, i+1))
			ok = false
		default:
			index[f] = i
		}
	}
	for f, i := range index {
		if i < 0 {
			col.add(1, "header", fmt.Sprintf("missing column %q", columns[f]))
			ok = false
		}
	}
	return index, ok
}

// csvSyntax reports a CSV syntax error as a problem; it is false for other
// errors (reading failed).
func csvSyntax(col *collector, err error) bool {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return false
	}
	col.add(pe.Line, "", fmt.Sprintf("%v (column %d)", pe.Err, pe.Column))
	return true
}

// WriteCSV writes cases in the case-CSV format ParseCSV reads, header first.
func WriteCSV(w io.Writer, cs []Case) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns[:]); err != nil {
		return fmt.Errorf("cases: write csv: %w", err)
	}
	rec := make([]string, numColumns)
	for _, c := range cs {
		rec[colCaseNumber] = c.Number
		rec[colDebtorName] = c.DebtorName
		rec[colBirthDate] = c.BirthDate.Format(time.DateOnly)
		rec[colPhone] = c.Phone
		rec[colCreditor] = c.Creditor
		rec[colPrincipal] = FormatAmount(c.Principal)
		rec[colInterest] = FormatAmount(c.Interest)
		rec[colFees] = FormatAmount(c.Fees)
		rec[colBankAccount] = c.BankAccount
		rec[colLastPaymentDate], rec[colLastPaymentAmount] = paymentText(c.LastPayment)
		rec[colNextInstallmentDate], rec[colNextInstallmentAmount] = paymentText(c.NextInstallment)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("cases: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cases: write csv: %w", err)
	}
	return nil
}

func paymentText(p *dialogs.Payment) (date, amount string) {
	if p == nil {
		return "", ""
	}
	return p.Date.Format(time.DateOnly), FormatAmount(p.Amount)
}
