package cases

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hotline/dialogs"
)

func TestValidate(t *testing.T) {
	warsaw := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		cs   []Case
		want []string
	}{
		{"ok", []Case{janCase()}, nil},
		{"duplicate numbers", []Case{janCase(), janCase()}, []string{`case 2: case_number: "12345678" is already case 1`}},
		{"negative amount", []Case{janCase(), func() Case { c := janCase(); c.Number = "87654321"; c.Fees = -1; return c }()},
			[]string{`case 2: fees: "-0.01" is negative`}},
		{"too large", []Case{func() Case { c := janCase(); c.Principal = MaxAmount + 1; return c }()},
			[]string{`case 1: principal: "1000000000000.00" is more than 999999999999.99`}},
		{"not midnight", []Case{func() Case { c := janCase(); c.BirthDate = c.BirthDate.Add(time.Hour); return c }()},
			[]string{`case 1: birth_date: 1980-01-02T01:00:00Z is not a calendar date (UTC midnight)`}},
		{"other zone", []Case{func() Case {
			c := janCase()
			c.LastPayment.Date = time.Date(2026, 10, 15, 0, 0, 0, 0, warsaw)
			return c
		}()}, []string{`case 1: last_payment_date: 2026-10-15T00:00:00+01:00 is not a calendar date (UTC midnight)`}},
		{"zero payment date", []Case{func() Case { c := janCase(); c.NextInstallment.Date = time.Time{}; return c }()},
			[]string{`case 1: next_installment_date: is required`}},
		{"spaces in name", []Case{func() Case { c := janCase(); c.DebtorName = " Jan"; return c }()},
			[]string{`case 1: debtor_name: " Jan" has spaces at the start or end`}},
		{"account with spaces", []Case{func() Case { c := janCase(); c.BankAccount = "12 1090 1014 0000 0712 1981 2874"; return c }()},
			[]string{`case 1: bank_account: "12 1090 1014 0000 0712 1981 2874" is not a 26-digit bank account number`}},
		{"bidi override", []Case{func() Case { c := janCase(); c.Creditor = "Bank\u202e"; return c }()},
			[]string{`case 1: creditor: "Bank\u202e" contains control characters`}},
		{"empty case", []Case{{}}, []string{
			`case 1: case_number: is required`, `case 1: debtor_name: is required`, `case 1: birth_date: is required`,
			`case 1: phone: is required`, `case 1: creditor: is required`, `case 1: bank_account: is required`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.cs, testOpts())
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantProblems(t, err, tc.want...)
		})
	}
}

func TestCaseValidate(t *testing.T) {
	if err := janCase().Validate(testOpts()); err != nil {
		t.Fatal(err)
	}
	c := janCase()
	c.Phone = "600"
	wantProblems(t, c.Validate(testOpts()), `phone: "600" is not an E.164 phone number like +48600100200`)
}

func TestDialogCopies(t *testing.T) {
	c := janCase()
	d := c.Dialog()
	want := dialogs.Case{Number: "12345678", Creditor: "Bank Przykładowy S.A.", Principal: 123456, Interest: 21022,
		Fees: 5500, BankAccount: "12109010140000071219812874",
		LastPayment:     &dialogs.Payment{Date: day(2026, 10, 15), Amount: 50000},
		NextInstallment: &dialogs.Payment{Date: day(2026, 12, 15), Amount: 25000}}
	if d.Balance() != c.Balance() || *d.LastPayment != *want.LastPayment || *d.NextInstallment != *want.NextInstallment {
		t.Fatalf("Dialog() = %+v, want %+v", d, want)
	}
	d.LastPayment.Amount = 1
	if c.LastPayment.Amount != 50000 {
		t.Error("Dialog() shares the payment with the case")
	}
	if (Case{}).Dialog().LastPayment != nil {
		t.Error("nil payment became non-nil")
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvPath := write("a.CSV", csvFile(t, janRow()))
	if got, err := ParseFile(csvPath, testOpts()); err != nil || len(got) != 1 {
		t.Errorf("csv: %d cases, %v", len(got), err)
	}
	ymlPath := write("a.yml", janYAML)
	if got, err := ParseFile(ymlPath, testOpts()); err != nil || len(got) != 1 {
		t.Errorf("yml: %d cases, %v", len(got), err)
	}
	bad := write("bad.csv", csvFile(t, with("fees", "1,5")))
	wantProblems(t, func() error { _, err := ParseFile(bad, testOpts()); return err }(),
		bad+`:2: fees: "1,5" is not an amount like 1234.56`)
	txt := write("a.txt", "x")
	wantProblems(t, func() error { _, err := ParseFile(txt, testOpts()); return err }(),
		txt+`: unsupported file type ".txt", want .csv, .yaml or .yml`)
	_, err := ParseFile(filepath.Join(dir, "missing.csv"), testOpts())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}
