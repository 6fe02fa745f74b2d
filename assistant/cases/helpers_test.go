package cases

import (
	"bytes"
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"hotline/dialogs"
)

// today is the fixed "now" of the tests.
var testNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func testOpts() Options { return Options{Now: func() time.Time { return testNow }} }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// janRow is the main demo case as CSV text, by column.
func janRow() map[string]string {
	return map[string]string{
		"case_number": "12345678", "debtor_name": "Jan Kowalski", "birth_date": "1980-01-02",
		"phone": "+48600100200", "creditor": "Bank Przykładowy S.A.",
		"principal": "1234.56", "interest": "210.22", "fees": "55.00",
		"bank_account":      "12 1090 1014 0000 0712 1981 2874",
		"last_payment_date": "2026-10-15", "last_payment_amount": "500.00",
		"next_installment_date": "2026-12-15", "next_installment_amount": "250.00",
	}
}

// janCase is janRow parsed.
func janCase() Case {
	return Case{
		Number: "12345678", DebtorName: "Jan Kowalski", BirthDate: day(1980, 1, 2),
		Phone: "+48600100200", Creditor: "Bank Przykładowy S.A.",
		Principal: 123456, Interest: 21022, Fees: 5500,
		BankAccount:     "12109010140000071219812874",
		LastPayment:     &dialogs.Payment{Date: day(2026, 10, 15), Amount: 50000},
		NextInstallment: &dialogs.Payment{Date: day(2026, 12, 15), Amount: 25000},
	}
}

// csvFile writes a header and one row per map (columns in contract order).
func csvFile(t testing.TB, rows ...map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(columns[:])
	for _, r := range rows {
		rec := make([]string, numColumns)
		for i, c := range columns {
			rec[i] = r[c]
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// with returns a copy of janRow with fields changed.
func with(kv ...string) map[string]string {
	r := janRow()
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i]] = kv[i+1]
	}
	return r
}

// importErr asserts err is an *ImportError and returns it.
func importErr(t testing.TB, err error) *ImportError {
	t.Helper()
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *ImportError", err, err)
	}
	return ie
}

// wantProblems checks the error's text, one problem per line.
func wantProblems(t testing.TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want:\n%s", strings.Join(want, "\n"))
	}
	ie := importErr(t, err)
	if got := ie.Error(); got != strings.Join(want, "\n") {
		t.Errorf("error:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func equalCases(t testing.TB, got, want []Case) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cases:\n%+v\nwant:\n%+v", got, want)
	}
}
