package cases

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"hotline/dialogs"
)

func TestParseCSVHappy(t *testing.T) {
	anna := with("case_number", "11111111", "debtor_name", "  Anna Nowak ", "principal", "1", "interest", "0.01",
		"fees", "0", "bank_account", "43 1020 5558 0000 0102 0304 0506",
		"last_payment_date", "", "last_payment_amount", "", "next_installment_amount", "2.0")
	got, err := ParseCSV("cases.csv", strings.NewReader(csvFile(t, janRow(), anna)), testOpts())
	if err != nil {
		t.Fatal(err)
	}
	a := Case{
		Number: "11111111", DebtorName: "Anna Nowak", BirthDate: day(1980, 1, 2), Phone: "+48600100200",
		Creditor: "Bank Przykładowy S.A.", Principal: 100, Interest: 1, Fees: 0,
		BankAccount:     "43102055580000010203040506",
		NextInstallment: &dialogs.Payment{Date: day(2026, 12, 15), Amount: 200},
	}
	equalCases(t, got, []Case{janCase(), a})
	if b := got[0].Balance(); b != 149978 {
		t.Errorf("balance = %d, want 149978", b)
	}
	if b := got[1].Balance(); b != 101 {
		t.Errorf("balance = %d, want 101", b)
	}
}

func TestParseCSVBOMCRLFAndColumnOrder(t *testing.T) {
	// Columns in reverse order, a BOM, CRLF line ends and a trailing blank line.
	r := janRow()
	var hdr, vals []string
	for i := len(columns) - 1; i >= 0; i-- {
		hdr = append(hdr, columns[i])
		vals = append(vals, `"`+r[columns[i]]+`"`)
	}
	in := "\uFEFF" + strings.Join(hdr, ",") + "\r\n" + strings.Join(vals, ",") + "\r\n\r\n"
	got, err := ParseCSV("cases.csv", strings.NewReader(in), testOpts())
	if err != nil {
		t.Fatal(err)
	}
	equalCases(t, got, []Case{janCase()})
}

func TestParseCSVRowProblems(t *testing.T) {
	const f = "cases.csv:2: "
	tests := []struct {
		name string
		row  map[string]string
		want []string
	}{
		{"comma decimal", with("principal", "12,50"), []string{f + `principal: "12,50" is not an amount like 1234.56`}},
		{"empty principal", with("principal", ""), []string{f + `principal: is required`}},
		{"empty interest", with("interest", ""), []string{f + `interest: is required`}},
		{"empty fees", with("fees", ""), []string{f + `fees: is required`}},
		{"negative", with("interest", "-1"), []string{f + `interest: "-1" is not an amount like 1234.56`}},
		{"three decimals", with("fees", "1.234"), []string{f + `fees: "1.234" is not an amount like 1234.56`}},
		{"exponent", with("fees", "1e3"), []string{f + `fees: "1e3" is not an amount like 1234.56`}},
		{"leading space amount", with("principal", " 1"), []string{f + `principal: " 1" is not an amount like 1234.56`}},
		{"too large", with("principal", "1000000000000"), []string{f + `principal: "1000000000000" is more than 999999999999.99`}},
		{"not a calendar date", with("birth_date", "1980-02-30"), []string{f + `birth_date: "1980-02-30" is not a real calendar date`}},
		{"month 13", with("last_payment_date", "2026-13-01"), []string{f + `last_payment_date: "2026-13-01" is not a real calendar date`}},
		{"polish date", with("birth_date", "02.01.1980"), []string{f + `birth_date: "02.01.1980" is not a date like 2026-03-15 (YYYY-MM-DD)`}},
		{"short date", with("birth_date", "1980-1-2"), []string{f + `birth_date: "1980-1-2" is not a date like 2026-03-15 (YYYY-MM-DD)`}},
		{"birth today", with("birth_date", "2026-11-24"), []string{f + `birth_date: "2026-11-24" is not in the past`}},
		{"birth future", with("birth_date", "2030-01-01"), []string{f + `birth_date: "2030-01-01" is not in the past`}},
		{"birth 1899", with("birth_date", "1899-12-31"), []string{f + `birth_date: "1899-12-31" is not between 1900-01-01 and 2199-12-31`}},
		{"no birth date", with("birth_date", ""), []string{f + `birth_date: is required`}},
		{"national phone", with("phone", "600100200"), []string{f + `phone: "600100200" is not an E.164 phone number like +48600100200`}},
		{"phone zero cc", with("phone", "+0123456789"), []string{f + `phone: "+0123456789" is not an E.164 phone number like +48600100200`}},
		{"phone spaces", with("phone", "+48 600 100 200"), []string{f + `phone: "+48 600 100 200" is not an E.164 phone number like +48600100200`}},
		{"no phone", with("phone", ""), []string{f + `phone: is required`}},
		{"short case number", with("case_number", "12345"), []string{f + `case_number: "12345" is not a case number matching ^[0-9]{6,12}$`}},
		{"letters in case number", with("case_number", "12a45678"), []string{f + `case_number: "12a45678" is not a case number matching ^[0-9]{6,12}$`}},
		{"no case number", with("case_number", ""), []string{f + `case_number: is required`}},
		{"short account", with("bank_account", "12 1090"), []string{f + `bank_account: "12 1090" is not a 26-digit bank account number`}},
		{"IBAN account", with("bank_account", "PL12109010140000071219812874"), []string{f + `bank_account: "PL12109010140000071219812874" is not a 26-digit bank account number`}},
		{"no account", with("bank_account", ""), []string{f + `bank_account: is required`}},
		{"blank name", with("debtor_name", "   "), []string{f + `debtor_name: is required`}},
		{"control char", with("creditor", "Bank\x01X"), []string{f + `creditor: "Bank\x01X" contains control characters`}},
		{"bad utf8", with("debtor_name", "Jan \xff"), []string{f + `debtor_name: is not valid UTF-8`}},
		{"long name", with("debtor_name", strings.Repeat("ż", 201)), []string{f + `debtor_name: is longer than 200 characters`}},
		{"payment date only", with("last_payment_amount", ""), []string{f + `last_payment_amount: is required when last_payment_date is set`}},
		{"instalment amount only", with("next_installment_date", ""), []string{f + `next_installment_date: is required when next_installment_amount is set`}},
		{"zero payment", with("last_payment_amount", "0"), []string{f + `last_payment_amount: "0.00" must be more than 0`}},
		{"bad payment amount", with("next_installment_amount", "250,00"), []string{f + `next_installment_amount: "250,00" is not an amount like 1234.56`}},
		{"several, in column order", with("fees", "x", "case_number", "1", "phone", "1"), []string{
			f + `case_number: "1" is not a case number matching ^[0-9]{6,12}$`,
			f + `phone: "1" is not an E.164 phone number like +48600100200`,
			f + `fees: "x" is not an amount like 1234.56`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCSV("cases.csv", strings.NewReader(csvFile(t, tc.row)), testOpts())
			wantProblems(t, err, tc.want...)
			if got != nil {
				t.Errorf("cases = %v, want none on error", got)
			}
		})
	}
}

func TestParseCSVFileProblems(t *testing.T) {
	header := strings.Join(columns[:], ",")
	row := strings.TrimPrefix(csvFile(t, janRow()), header+"\n")
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"cases.csv: file is empty, want a header row: " + header}},
		{"only BOM", "\uFEFF", []string{"cases.csv: file is empty, want a header row: " + header}},
		{"header only", header + "\n", []string{"cases.csv: no cases after the header row"}},
		{"missing column", strings.Replace(header, ",fees", "", 1) + "\n", []string{`cases.csv:1: header: missing column "fees"`}},
		{"unknown column", header + ",note\n", []string{`cases.csv:1: header: unknown column "note" (column 14)`}},
		{"repeated column", header + ",phone\n", []string{`cases.csv:1: header: column "phone" is repeated (columns 4 and 14)`}},
		{"case differs", strings.Replace(header, "principal", "Principal", 1) + "\n", []string{
			`cases.csv:1: header: unknown column "Principal" (column 6)`,
			`cases.csv:1: header: missing column "principal"`,
		}},
		{"semicolons", strings.ReplaceAll(header, ",", ";") + "\n", []string{
			`cases.csv:1: header: unknown column "` + strings.ReplaceAll(header, ",", ";") + `" (column 1)`,
			`cases.csv:1: header: missing column "case_number"`, `cases.csv:1: header: missing column "debtor_name"`,
			`cases.csv:1: header: missing column "birth_date"`, `cases.csv:1: header: missing column "phone"`,
			`cases.csv:1: header: missing column "creditor"`, `cases.csv:1: header: missing column "principal"`,
			`cases.csv:1: header: missing column "interest"`, `cases.csv:1: header: missing column "fees"`,
			`cases.csv:1: header: missing column "bank_account"`, `cases.csv:1: header: missing column "last_payment_date"`,
			`cases.csv:1: header: missing column "last_payment_amount"`, `cases.csv:1: header: missing column "next_installment_date"`,
			`cases.csv:1: header: missing column "next_installment_amount"`,
		}},
		{"short row", header + "\n" + row + "1,2,3\n", []string{"cases.csv:3: has 3 fields, want 13"}},
		{"long row", header + "\n" + strings.TrimSuffix(row, "\n") + ",x\n", []string{"cases.csv:2: has 14 fields, want 13"}},
		{"duplicate case", header + "\n" + row + "\n" + row, []string{`cases.csv:4: case_number: "12345678" is already on line 2`}},
		{"bare quote", header + "\n" + row + `1"2,` + "\n", []string{`cases.csv:3: bare " in non-quoted-field (column 2)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCSV("cases.csv", strings.NewReader(tc.in), testOpts())
			wantProblems(t, err, tc.want...)
			if got != nil {
				t.Errorf("cases = %v, want none on error", got)
			}
		})
	}
}

// A quoted field spanning lines moves the following rows' line numbers.
func TestParseCSVMultilineFieldLines(t *testing.T) {
	in := csvFile(t, with("creditor", "Bank\nX"), with("case_number", "87654321", "principal", "1,00"))
	_, err := ParseCSV("cases.csv", strings.NewReader(in), testOpts())
	wantProblems(t, err,
		`cases.csv:2: creditor: "Bank\nX" contains control characters`,
		`cases.csv:4: principal: "1,00" is not an amount like 1234.56`)
}

func TestParseCSVProblemCap(t *testing.T) {
	rows := make([]map[string]string, 60)
	for i := range rows {
		rows[i] = with("case_number", fmt.Sprintf("%08d", i+1), "fees", "bad")
	}
	_, err := ParseCSV("cases.csv", strings.NewReader(csvFile(t, rows...)), testOpts())
	ie := importErr(t, err)
	if len(ie.Problems) != 50 || ie.Omitted != 10 {
		t.Fatalf("problems %d, omitted %d; want 50, 10", len(ie.Problems), ie.Omitted)
	}
	if last := ie.Problems[49].String(); last != `cases.csv:51: fees: "bad" is not an amount like 1234.56` {
		t.Errorf("last problem = %q", last)
	}
	if !strings.HasSuffix(ie.Error(), "\n… and 10 more problems") {
		t.Errorf("error does not end with the omitted count:\n%s", ie.Error())
	}
	_, err = ParseCSV("cases.csv", strings.NewReader(csvFile(t, rows...)), Options{Now: testOpts().Now, MaxProblems: 3})
	if ie := importErr(t, err); len(ie.Problems) != 3 || ie.Omitted != 57 {
		t.Errorf("MaxProblems 3: problems %d, omitted %d", len(ie.Problems), ie.Omitted)
	}
}

func TestParseCSVCaseNumberPattern(t *testing.T) {
	in := csvFile(t, with("case_number", "1234"))
	opt := testOpts()
	opt.CaseNumber = regexp.MustCompile(`[0-9]{4}`) // unanchored on purpose
	if _, err := ParseCSV("cases.csv", strings.NewReader(in), opt); err != nil {
		t.Fatalf("4 digits with pattern [0-9]{4}: %v", err)
	}
	in = csvFile(t, with("case_number", "123456"))
	_, err := ParseCSV("cases.csv", strings.NewReader(in), opt)
	wantProblems(t, err, `cases.csv:2: case_number: "123456" is not a case number matching [0-9]{4}`)

	// Digits only, whatever the pattern allows.
	opt.CaseNumber = regexp.MustCompile(`^[0-9A-Z]{4}$`)
	_, err = ParseCSV("cases.csv", strings.NewReader(csvFile(t, with("case_number", "12AB"))), opt)
	wantProblems(t, err, `cases.csv:2: case_number: "12AB" is not a case number matching ^[0-9A-Z]{4}$`)

	opt.CaseNumber = DigitsPattern(3, 5)
	if _, err := ParseCSV("cases.csv", strings.NewReader(csvFile(t, with("case_number", "123"))), opt); err != nil {
		t.Errorf("DigitsPattern(3,5) rejects 123: %v", err)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	in := []Case{janCase(), {Number: "55555555", DebtorName: "Katarzyna Wójcik, \"Kasia\"", BirthDate: day(1965, 7, 20),
		Phone: "+48600100205", Creditor: "Fundusz", Principal: 500000, Interest: 1200000, Fees: 5,
		BankAccount: "51105010140000009087654321"}}
	var b bytes.Buffer
	if err := WriteCSV(&b, in); err != nil {
		t.Fatal(err)
	}
	got, err := ParseCSV("out.csv", &b, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	equalCases(t, got, in)
}

func BenchmarkParseCSV(b *testing.B) {
	rows := make([]map[string]string, 10_000)
	for i := range rows {
		rows[i] = with("case_number", fmt.Sprintf("%08d", i+1))
	}
	data := []byte(csvFile(b, rows...))
	opt := testOpts()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cs, err := ParseCSV("bench.csv", bytes.NewReader(data), opt)
		if err != nil || len(cs) != len(rows) {
			b.Fatalf("%d cases, %v", len(cs), err)
		}
	}
}
