package cases

import (
	"testing"
	"time"

	"hotline/assistant/redistest"
	"hotline/dialogs"
)

// The demo case book is what the chat mode and the embedded store show; the
// figures here are the ones the Polish wording tests rely on.
func TestDemoCases(t *testing.T) {
	got, err := ParseFile("../../configs/demo-cases.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	pay := func(y, m, d int, amount int64) *dialogs.Payment {
		return &dialogs.Payment{Date: day(y, time.Month(m), d), Amount: amount}
	}
	want := map[string]struct {
		name                   string
		birth                  [3]int
		principal, int_, fees  int64
		balance                int64
		last, next             *dialogs.Payment
		creditor, phone, accnt string
	}{
		"12345678": {"Jan Kowalski", [3]int{1980, 1, 2}, 123456, 21022, 5500, 149978,
			pay(2026, 10, 15, 50000), pay(2026, 12, 15, 25000),
			"Bank Przykładowy S.A.", "+48600100200", "12109010140000071219812874"},
		"11111111": {"Anna Nowak", [3]int{1975, 5, 15}, 100, 1, 0, 101, nil, pay(2026, 12, 1, 200), "", "", ""},
		"22222222": {"Piotr Wiśniewski", [3]int{1990, 12, 31}, 2200, 500, 1200, 3900, pay(2026, 9, 1, 222), nil, "", "", ""},
		"55555555": {"Katarzyna Wójcik", [3]int{1965, 7, 20}, 500000, 1200000, 5, 1700005, nil, nil, "", "", ""},
		"21212121": {"Tomasz Lewandowski", [3]int{2000, 2, 29}, 2100000, 100000, 100, 2200100,
			pay(2026, 11, 2, 100000), pay(2027, 1, 5, 102200), "", "", ""},
	}
	if len(got) != len(want) {
		t.Errorf("%d demo cases, want %d", len(got), len(want))
	}
	for _, c := range got {
		w, ok := want[c.Number]
		if !ok {
			t.Errorf("unexpected demo case %s", c.Number)
			continue
		}
		if c.DebtorName != w.name || !c.BirthDate.Equal(day(w.birth[0], time.Month(w.birth[1]), w.birth[2])) {
			t.Errorf("%s: %q born %v", c.Number, c.DebtorName, c.BirthDate)
		}
		if c.Principal != w.principal || c.Interest != w.int_ || c.Fees != w.fees || c.Balance() != w.balance {
			t.Errorf("%s: principal %d interest %d fees %d balance %d; want %d %d %d %d", c.Number,
				c.Principal, c.Interest, c.Fees, c.Balance(), w.principal, w.int_, w.fees, w.balance)
		}
		if !equalPayment(c.LastPayment, w.last) || !equalPayment(c.NextInstallment, w.next) {
			t.Errorf("%s: last %v next %v; want %v %v", c.Number, c.LastPayment, c.NextInstallment, w.last, w.next)
		}
		if w.creditor != "" && (c.Creditor != w.creditor || c.Phone != w.phone || c.BankAccount != w.accnt) {
			t.Errorf("%s: creditor %q phone %q account %q", c.Number, c.Creditor, c.Phone, c.BankAccount)
		}
		if len(c.BankAccount) != 26 || c.Phone[:3] != "+48" {
			t.Errorf("%s: account %q phone %q", c.Number, c.BankAccount, c.Phone)
		}
	}
}

func equalPayment(a, b *dialogs.Payment) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Date.Equal(b.Date) && a.Amount == b.Amount
}

// The demo book imports as the embedded store seeds it.
func TestDemoCasesImport(t *testing.T) {
	cs, err := ParseFile("../../configs/demo-cases.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rdb, _, prefix := redistest.Mini(t)
	b := NewBook(rdb, prefix, Options{})
	if err := b.Import(t.Context(), cs); err != nil {
		t.Fatal(err)
	}
	d, err := b.FindCase(t.Context(), "12345678")
	if err != nil || d.Balance() != 149978 || d.Creditor != "Bank Przykładowy S.A." {
		t.Errorf("FindCase(12345678) = %+v, %v", d, err)
	}
	if n, err := b.Count(t.Context()); err != nil || n != 5 {
		t.Errorf("Count = %d, %v; want 5", n, err)
	}
}
