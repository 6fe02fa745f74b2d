package cases

import (
	"strings"
	"testing"

	"hotline/dialogs"
)

// janYAML is the main demo case with unquoted numbers and dates.
const janYAML = `cases:
  - case_number: 12345678
    debtor_name: Jan Kowalski
    birth_date: 1980-01-02
    phone: +48600100200
    creditor: "Bank Przykładowy S.A."
    principal: 1234.56
    interest: 210.22
    fees: 55.00
    bank_account: 12 1090 1014 0000 0712 1981 2874
    last_payment_date: 2026-10-15
    last_payment_amount: 500.00
    next_installment_date: 2026-12-15
    next_installment_amount: 250
`

func TestParseYAMLHappy(t *testing.T) {
	in := "\uFEFF" + janYAML + `
  - &anna
    case_number: "00111111"
    debtor_name: Anna Nowak
    birth_date: "1975-05-15"
    phone: "+48600100201"
    creditor: Pożyczki
    principal: 0.1
    interest: '0.10'
    fees: 0
    bank_account: "43102055580000010203040506"
    last_payment_date: ~
    last_payment_amount: null
    next_installment_date: 2026-12-01
    next_installment_amount: 2
`
	got, err := ParseYAML("cases.yaml", strings.NewReader(in), testOpts())
	if err != nil {
		t.Fatal(err)
	}
	jan := janCase()
	jan.NextInstallment.Amount = 25000
	equalCases(t, got, []Case{jan, {
		Number: "00111111", DebtorName: "Anna Nowak", BirthDate: day(1975, 5, 15), Phone: "+48600100201",
		Creditor: "Pożyczki", Principal: 10, Interest: 10, Fees: 0, BankAccount: "43102055580000010203040506",
		NextInstallment: &dialogs.Payment{Date: day(2026, 12, 1), Amount: 200},
	}})
}

func TestParseYAMLProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{`cases.yaml: file is empty, want a list under "cases:"`}},
		{"comments only", "# nothing\n", []string{`cases.yaml: file is empty, want a list under "cases:"`}},
		{"top-level list", "- case_number: 1\n", []string{`cases.yaml:1: want a map with a "cases:" list at the top`}},
		{"unknown top key", "case: []\n", []string{`cases.yaml:1: unknown key "case", want only "cases"`}},
		{"null list", "cases:\n", []string{`cases.yaml:1: cases: the list is empty`}},
		{"empty list", "cases: []\n", []string{`cases.yaml:1: cases: the list is empty`}},
		{"not a list", "cases: 3\n", []string{`cases.yaml:1: cases: want a list of cases`}},
		{"item not a map", "cases:\n  - 12345678\n", []string{`cases.yaml:2: want a map of case fields`}},
		{"syntax", "cases:\n  - a: [\n", []string{`cases.yaml:2: did not find expected node content`}},
		{"two documents", janYAML + "---\ncases: []\n", []string{`cases.yaml:15: more than one YAML document, want one`}},
		{"comma amount", strings.Replace(janYAML, "principal: 1234.56", "principal: 1,5", 1),
			[]string{`cases.yaml:7: principal: "1,5" is not an amount like 1234.56`}},
		{"exponent amount", strings.Replace(janYAML, "fees: 55.00", "fees: 1e3", 1),
			[]string{`cases.yaml:9: fees: "1e3" is not an amount like 1234.56`}},
		{"null amount", strings.Replace(janYAML, "fees: 55.00", "fees: ~", 1),
			[]string{`cases.yaml:9: fees: is required`}},
		{"missing key", strings.Replace(janYAML, "    interest: 210.22\n", "", 1),
			[]string{`cases.yaml:2: interest: is required`}},
		{"unknown field", strings.Replace(janYAML, "    fees: 55.00\n", "    fees: 55.00\n    fee: 1\n", 1),
			[]string{`cases.yaml:10: unknown field "fee"`}},
		{"repeated field", strings.Replace(janYAML, "    fees: 55.00\n", "    fees: 55.00\n    fees: 1\n", 1),
			[]string{`cases.yaml:10: fees: repeated (first on line 9)`}},
		{"list value", strings.Replace(janYAML, "phone: +48600100200", "phone: [+48600100200]", 1),
			[]string{`cases.yaml:5: phone: want a single value`}},
		{"payment pair", strings.Replace(janYAML, "    last_payment_amount: 500.00\n", "", 1),
			[]string{`cases.yaml:2: last_payment_amount: is required when last_payment_date is set`}},
		{"future birth", strings.Replace(janYAML, "birth_date: 1980-01-02", "birth_date: 2027-01-02", 1),
			[]string{`cases.yaml:4: birth_date: "2027-01-02" is not in the past`}},
		{"duplicate case", janYAML + strings.TrimPrefix(janYAML, "cases:\n"),
			[]string{`cases.yaml:15: case_number: "12345678" is already on line 2`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseYAML("cases.yaml", strings.NewReader(tc.in), testOpts())
			wantProblems(t, err, tc.want...)
			if got != nil {
				t.Errorf("cases = %v, want none on error", got)
			}
		})
	}
}
