package nlu

import (
	"context"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zoneinfo

	"hotline/dialogs"
)

func warsaw(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		tb.Fatalf("load Europe/Warsaw: %v", err)
	}
	return loc
}

// testNow is Tuesday 2026-11-24 10:00 in Warsaw.
func testNow(tb testing.TB) time.Time {
	tb.Helper()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, warsaw(tb))
	if now.Weekday() != time.Tuesday {
		tb.Fatalf("test clock is a %v, want Tuesday", now.Weekday())
	}
	return now
}

var (
	expNothing = dialogs.Expect{}
	expMenu    = dialogs.Expect{Kind: dialogs.ExpectMenu}
	expCase    = dialogs.Expect{Kind: dialogs.ExpectCaseNumber}
	expDOB     = dialogs.Expect{Kind: dialogs.ExpectBirthDate}
	expSlot3   = dialogs.Expect{Kind: dialogs.ExpectSlot, Options: 3}
	expSlot0   = dialogs.Expect{Kind: dialogs.ExpectSlot}
	expChoice2 = dialogs.Expect{Kind: dialogs.ExpectChoice, Options: 2}
)

func TestRulesIntents(t *testing.T) {
	r := NewRules(warsaw(t))
	now := testNow(t)
	tests := []struct {
		exp  dialogs.Expect
		text string
		want dialogs.IntentKind
	}{
		// debt
		{expMenu, "Ile jestem winien?", dialogs.IntentDebt},
		{expMenu, "ile jestem winna", dialogs.IntentDebt},
		{expMenu, "saldo", dialogs.IntentDebt},
		{expMenu, "Chciałbym poznać saldo zadłużenia.", dialogs.IntentDebt},
		{expMenu, "zadłużenie", dialogs.IntentDebt},
		{expMenu, "jaki mam dług", dialogs.IntentDebt},
		{expMenu, "jaka jest kwota do zapłaty", dialogs.IntentDebt},
		{expMenu, "ile mam do zapłaty", dialogs.IntentDebt},
		{expMenu, "ile muszę zapłacić", dialogs.IntentDebt},
		{expMenu, "a te odsetki to skąd", dialogs.IntentDebt},
		{expMenu, "kto jest wierzycielem", dialogs.IntentDebt},
		{expMenu, "ZADŁUŻENIA", dialogs.IntentDebt},
		// payments
		{expMenu, "płatności", dialogs.IntentPayments},
		{expMenu, "poproszę numer konta", dialogs.IntentPayments},
		{expMenu, "na jaki rachunek mam wpłacać", dialogs.IntentPayments},
		{expMenu, "wpłaty", dialogs.IntentPayments},
		{expMenu, "kiedy była ostatnia wpłata", dialogs.IntentPayments},
		{expMenu, "rata", dialogs.IntentPayments},
		{expMenu, "kiedy rata", dialogs.IntentPayments},
		{expMenu, "ile wynosi następna rata", dialogs.IntentPayments},
		{expMenu, "chcę spłacać w ratach", dialogs.IntentPayments},
		{expMenu, "zrobiłem przelew wczoraj", dialogs.IntentPayments},
		{expMenu, "jak zapłacić", dialogs.IntentPayments},
		{expMenu, "chcę spłacić dług", dialogs.IntentPayments},
		{expMenu, "zapłaciłem w zeszłym tygodniu", dialogs.IntentPayments},
		{expMenu, "ile jestem winien i jaki jest numer konta", dialogs.IntentPayments},
		// callback
		{expMenu, "oddzwońcie", dialogs.IntentCallback},
		{expMenu, "proszę o kontakt", dialogs.IntentCallback},
		{expMenu, "Proszę o kontakt telefoniczny", dialogs.IntentCallback},
		{expMenu, "telefon zwrotny", dialogs.IntentCallback},
		{expMenu, "zadzwońcie później", dialogs.IntentCallback},
		{expMenu, "niech konsultant do mnie oddzwoni", dialogs.IntentCallback},
		{expMenu, "chciałbym umówić rozmowę", dialogs.IntentCallback},
		// consultant
		{expMenu, "konsultant", dialogs.IntentConsultant},
		{expMenu, "połącz mnie z konsultantem", dialogs.IntentConsultant},
		{expMenu, "chcę rozmawiać z człowiekiem", dialogs.IntentConsultant},
		{expMenu, "z pracownikiem proszę", dialogs.IntentConsultant},
		{expMenu, "połącz z kimś", dialogs.IntentConsultant},
		{expMenu, "doradca", dialogs.IntentConsultant},
		{expMenu, "z doradcą", dialogs.IntentConsultant},
		{expMenu, "tak, chcę z konsultantką", dialogs.IntentConsultant},
		{expMenu, "żywa osoba", dialogs.IntentConsultant},
		// complaints
		{expMenu, "reklamacja", dialogs.IntentComplaints},
		{expMenu, "chcę złożyć skargę", dialogs.IntentComplaints},
		{expMenu, "kontakt", dialogs.IntentComplaints},
		{expMenu, "jaki jest wasz adres", dialogs.IntentComplaints},
		{expMenu, "dane kontaktowe", dialogs.IntentComplaints},
		{expMenu, "reklamacja w sprawie zadłużenia", dialogs.IntentComplaints},
		// repeat
		{expMenu, "powtórz", dialogs.IntentRepeat},
		{expMenu, "Proszę powtórzyć", dialogs.IntentRepeat},
		{expMenu, "jeszcze raz", dialogs.IntentRepeat},
		{expMenu, "nie zrozumiałem", dialogs.IntentRepeat},
		{expMenu, "przepraszam, nie zrozumiałam", dialogs.IntentRepeat},
		{expMenu, "słucham?", dialogs.IntentRepeat},
		// goodbye
		{expMenu, "do widzenia", dialogs.IntentGoodbye},
		{expMenu, "to wszystko", dialogs.IntentGoodbye},
		{expMenu, "koniec", dialogs.IntentGoodbye},
		{expMenu, "Dziękuję, to wszystko.", dialogs.IntentGoodbye},
		{expMenu, "dziękuję bardzo", dialogs.IntentGoodbye},
		{expMenu, "nic więcej, do usłyszenia", dialogs.IntentGoodbye},
		{expNothing, "to już wszystko, dzięki", dialogs.IntentGoodbye},
		// yes / no
		{expNothing, "tak", dialogs.IntentYes},
		{expNothing, "Tak.", dialogs.IntentYes},
		{expNothing, "zgadza się", dialogs.IntentYes},
		{expNothing, "oczywiście", dialogs.IntentYes},
		{expNothing, "tak, dziękuję", dialogs.IntentYes},
		{expNothing, "tak, to ja", dialogs.IntentYes},
		{expNothing, "nie", dialogs.IntentNo},
		{expNothing, "Nie, nie zgadzam się", dialogs.IntentNo},
		{expNothing, "nie zgadza się", dialogs.IntentNo},
		{expNothing, "nie, to nie ja", dialogs.IntentNo},
		{expNothing, "niestety nie", dialogs.IntentNo},
		{expNothing, "nie wiem", dialogs.IntentUnknown},
		// spoken menu keys
		{expMenu, "jeden", dialogs.IntentDebt},
		{expMenu, "1", dialogs.IntentDebt},
		{expMenu, "opcja pierwsza", dialogs.IntentDebt},
		{expMenu, "dwa", dialogs.IntentPayments},
		{expMenu, "dwójka", dialogs.IntentPayments},
		{expMenu, "trzy", dialogs.IntentCallback},
		{expMenu, "numer cztery", dialogs.IntentComplaints},
		{expMenu, "zero", dialogs.IntentConsultant},
		{expMenu, "dziewięć", dialogs.IntentRepeat},
		{expMenu, "pięć", dialogs.IntentUnknown},
		{expMenu, "jeden dwa", dialogs.IntentUnknown},
		{expNothing, "jeden", dialogs.IntentUnknown}, // numbers are menu keys only in the menu
		// anything else
		{expMenu, "", dialogs.IntentUnknown},
		{expMenu, "   ...  ", dialogs.IntentUnknown},
		{expMenu, "jaka jest dziś pogoda", dialogs.IntentUnknown},
		{expMenu, "eee", dialogs.IntentUnknown},
		// requests in other phases
		{expCase, "połącz z konsultantem", dialogs.IntentConsultant},
		{expCase, "nie mam numeru, połącz z konsultantem", dialogs.IntentConsultant},
		{expCase, "proszę powtórzyć", dialogs.IntentRepeat},
		{expDOB, "nie pamiętam", dialogs.IntentUnknown},
		{expDOB, "do widzenia", dialogs.IntentGoodbye},
		{expSlot3, "jednak połącz mnie z konsultantem", dialogs.IntentConsultant},
		{expSlot3, "żaden mi nie pasuje", dialogs.IntentNo},
		{expChoice2, "połącz z konsultantem", dialogs.IntentConsultant},
	}
	for _, tt := range tests {
		got, err := r.Understand(context.Background(), tt.exp, tt.text, now)
		if err != nil {
			t.Fatalf("Understand(%q): %v", tt.text, err)
		}
		if got.Kind != tt.want {
			t.Errorf("Understand(%s, %q) = %q, want %q", tt.exp.Kind, tt.text, got.Kind, tt.want)
		}
		if got.Source != SourceRules {
			t.Errorf("Understand(%q).Source = %q, want %q", tt.text, got.Source, SourceRules)
		}
	}
}

func TestRulesDigits(t *testing.T) {
	r := NewRules(warsaw(t))
	now := testNow(t)
	tests := []struct {
		text string
		want string
	}{
		{"jeden dwa trzy cztery pięć sześć siedem osiem", "12345678"},
		{"Jeden, dwa, trzy, cztery, pięć, sześć, siedem, osiem.", "12345678"},
		{"12 34 56 78", "12345678"},
		{"12345678", "12345678"},
		{"1234-5678", "12345678"},
		{"dwanaście trzydzieści cztery", "1234"},
		{"sto dwadzieścia trzy", "123"},
		{"sto dwadzieścia trzy czterysta pięćdziesiąt sześć", "123456"},
		{"mój numer to eee jeden zero zero dwa", "1002"},
		{"numer akt to dziewięć dziewięć zero", "990"},
		{"jeden dwa zera trzy", "1003"},
		{"pięć zer", "00000"},
		{"zero zero siedem", "007"},
		{"numer sprawy 12 trzy cztery", "1234"},
		{"dwadzieścia jeden dwadzieścia dwa", "2122"},
		{"dwa tysiące dwadzieścia pięć", "2025"},
		{"dziewięćset dziewięć", "909"},
		{"osiemnaście", "18"},
		{"jedna dwie", "12"},
		{"pierwsza trzecia", "13"}, // ordinals still carry digits
	}
	for _, tt := range tests {
		got, _ := r.Understand(context.Background(), expCase, tt.text, now)
		if got.Kind != dialogs.IntentDigits || got.Digits != tt.want {
			t.Errorf("Understand(case_number, %q) = %+v, want digits %q", tt.text, got, tt.want)
		}
	}
	// No digits: not a case number.
	got, _ := r.Understand(context.Background(), expCase, "nie mam pojęcia", now)
	if got.Kind == dialogs.IntentDigits {
		t.Errorf("no numbers gave %+v", got)
	}
}

func TestRulesBirthDates(t *testing.T) {
	r := NewRules(warsaw(t))
	now := testNow(t)
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		text string
		want time.Time
	}{
		{"drugiego stycznia osiemdziesiątego roku", date(1980, 1, 2)},
		{"Drugiego stycznia osiemdziesiątego", date(1980, 1, 2)},
		{"drugi stycznia tysiąc dziewięćset osiemdziesiąt", date(1980, 1, 2)},
		{"2 stycznia 1980", date(1980, 1, 2)},
		{"2 stycznia 1980 roku", date(1980, 1, 2)},
		{"02.01.1980", date(1980, 1, 2)},
		{"2.1.1980", date(1980, 1, 2)},
		{"02-01-1980", date(1980, 1, 2)},
		{"02/01/80", date(1980, 1, 2)},
		{"dwa jeden osiemdziesiąt", date(1980, 1, 2)},
		{"zero dwa zero jeden jeden dziewięć osiem zero", date(1980, 1, 2)},
		{"02011980", date(1980, 1, 2)},
		{"1980-01-02", date(1980, 1, 2)},
		{"020180", date(1980, 1, 2)},
		{"zero dwa zero jeden tysiąc dziewięćset osiemdziesiąt", date(1980, 1, 2)},
		{"drugiego pierwszego osiemdziesiątego", date(1980, 1, 2)},
		{"dwa jeden dziewiętnaście osiemdziesiąt", date(1980, 1, 2)},
		{"urodziłem się trzydziestego pierwszego grudnia tysiąc dziewięćset dziewięćdziesiątego dziewiątego roku", date(1999, 12, 31)},
		{"dwudziestego dziewiątego lutego dwa tysiące czwartego", date(2004, 2, 29)},
		{"piątego maja dwa tysiące piątego", date(2005, 5, 5)},
		{"piąty maja piątego", date(2005, 5, 5)},               // 05 <= 26: 2005
		{"piąty maja dwudziestego siódmego", date(1927, 5, 5)}, // 27 > 26: 1927
		{"jedenastego listopada 1918", date(1918, 11, 11)},
		{"15 sierpnia 1975", date(1975, 8, 15)},
		{"dwudziesty czwarty listopada dwa tysiące dwudziestego szóstego", date(2026, 11, 24)}, // today is fine
	}
	for _, tt := range tests {
		got, _ := r.Understand(context.Background(), expDOB, tt.text, now)
		if got.Kind != dialogs.IntentDate || !got.Date.Equal(tt.want) || got.Date.Location() != time.UTC {
			t.Errorf("Understand(birth_date, %q) = %+v, want date %s", tt.text, got, tt.want.Format(time.DateOnly))
		}
	}
	bad := []struct {
		text string
		want dialogs.IntentKind
	}{
		{"trzydziestego lutego osiemdziesiątego", dialogs.IntentUnknown},
		{"trzydziesty drugi stycznia 1980", dialogs.IntentUnknown},
		{"31.04.1980", dialogs.IntentDigits},                                                        // eight digits, no valid date: the flow counts a failure
		{"dwudziestego piątego listopada dwa tysiące dwudziestego szóstego", dialogs.IntentUnknown}, // tomorrow
		{"29021981", dialogs.IntentDigits},
		{"trzydziesty pierwszy kwietnia osiemdziesiątego", dialogs.IntentUnknown}, // a month named: no digits fallback
		{"drugiego stycznia", dialogs.IntentUnknown},
		{"stycznia", dialogs.IntentUnknown},
		{"1 1 1880", dialogs.IntentUnknown},
	}
	for _, tt := range bad {
		got, _ := r.Understand(context.Background(), expDOB, tt.text, now)
		if got.Kind != tt.want {
			t.Errorf("Understand(birth_date, %q) = %+v, want %q", tt.text, got, tt.want)
		}
	}
}

func TestRulesSlots(t *testing.T) {
	loc := warsaw(t)
	r := NewRules(loc)
	now := testNow(t) // Tuesday 2026-11-24 10:00
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, loc) }
	tests := []struct {
		exp  dialogs.Expect
		text string
		want time.Time
	}{
		{expSlot3, "jutro o piętnastej", at(25, 15, 0)},
		{expSlot3, "Jutro o 15.", at(25, 15, 0)},
		{expSlot3, "dzisiaj o dziesiątej trzydzieści", at(24, 10, 30)},
		{expSlot3, "dziś o czternastej piętnaście", at(24, 14, 15)},
		{expSlot3, "pojutrze o dziewiątej", at(26, 9, 0)},
		{expSlot3, "w poniedziałek o czternastej", at(30, 14, 0)},
		{expSlot3, "we wtorek o dziesiątej", time.Date(2026, 12, 1, 10, 0, 0, 0, loc)}, // next week's Tuesday
		{expSlot3, "w środę o 16:45", at(25, 16, 45)},
		{expSlot3, "w piątek rano", at(27, 9, 0)},
		{expSlot3, "o 15", at(24, 15, 0)},
		{expSlot3, "o 15:30", at(24, 15, 30)},
		{expSlot3, "o dziewiątej", at(25, 9, 0)}, // 9:00 today has passed
		{expSlot3, "o trzeciej", at(24, 15, 0)},  // 3 o'clock means 15:00
		{expSlot3, "jutro rano", at(25, 9, 0)},
		{expSlot3, "jutro po południu", at(25, 14, 0)},
		{expSlot3, "jutro o trzeciej po południu", at(25, 15, 0)},
		{expSlot3, "dzisiaj wieczorem o siódmej", at(24, 19, 0)},
		{expSlot3, "jutro w południe", at(25, 12, 0)},
		{expSlot3, "jutro przed południem", at(25, 10, 0)},
		{expSlot3, "jutro wpół do czwartej", at(25, 15, 30)},
		{expSlot3, "jutro kwadrans po dziesiątej", at(25, 10, 15)},
		{expSlot3, "na piętnastą", at(24, 15, 0)},
		{expSlot3, "piętnasta trzydzieści", at(24, 15, 30)},
		{expSlot3, "oddzwońcie jutro o jedenastej", at(25, 11, 0)},
		{expSlot3, "dwudziestego szóstego listopada o dziesiątej", at(26, 10, 0)},
		{expSlot3, "drugiego grudnia o dwunastej", time.Date(2026, 12, 2, 12, 0, 0, 0, loc)},
		{expSlot3, "dwudziestego trzeciego listopada o dziesiątej", time.Date(2027, 11, 23, 10, 0, 0, 0, loc)},
		{expSlot0, "jutro o piętnastej zero pięć", at(25, 15, 5)},
		{expSlot0, "jutro piętnaście trzydzieści", at(25, 15, 30)},
		{expSlot0, "jutro o czternastej czterdzieści pięć", at(25, 14, 45)},
		{expSlot0, "za kwadrans szesnasta", at(24, 15, 45)},
		{expSlot0, "jutro o dwudziestej pierwszej", at(25, 21, 0)},
	}
	for _, tt := range tests {
		got, _ := r.Understand(context.Background(), tt.exp, tt.text, now)
		if got.Kind != dialogs.IntentSlot || !got.When.Equal(tt.want) {
			t.Errorf("Understand(slot, %q) = %v %v, want %v", tt.text, got.Kind, got.When, tt.want)
		}
		if got.Kind == dialogs.IntentSlot && got.When.Location() != loc {
			t.Errorf("Understand(slot, %q).When in %v, want Europe/Warsaw", tt.text, got.When.Location())
		}
	}
	// Over a DST change the wall clock is kept: 2027-03-28 is the spring-forward Sunday.
	sat := time.Date(2027, 3, 27, 12, 0, 0, 0, loc)
	got, _ := r.Understand(context.Background(), expSlot0, "jutro o dziesiątej", sat)
	if want := time.Date(2027, 3, 28, 10, 0, 0, 0, loc); !got.When.Equal(want) || got.When.Hour() != 10 {
		t.Errorf("over DST: %v, want %v", got.When, want)
	}
	// now given in UTC is read in Warsaw: 23:30 UTC on the 24th is already the 25th there.
	late := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	got, _ = r.Understand(context.Background(), expSlot0, "jutro o dziesiątej", late)
	if want := time.Date(2026, 11, 26, 10, 0, 0, 0, loc); !got.When.Equal(want) {
		t.Errorf("UTC now: %v, want %v", got.When, want)
	}
}

func TestRulesChoices(t *testing.T) {
	r := NewRules(warsaw(t))
	now := testNow(t)
	tests := []struct {
		exp  dialogs.Expect
		text string
		want int // 0: not a choice
	}{
		{expSlot3, "dwa", 2},
		{expSlot3, "2", 2},
		{expSlot3, "pierwszy", 1},
		{expSlot3, "ten pierwszy", 1},
		{expSlot3, "drugi", 2},
		{expSlot3, "trzeci termin", 3},
		{expSlot3, "opcja dwa", 2},
		{expSlot3, "opcja numer dwa", 2},
		{expSlot3, "poproszę drugą opcję", 2},
		{expSlot3, "ostatni", 3},
		{expSlot3, "cztery", 0},     // only three options
		{expSlot3, "opcja pięć", 0}, // only three options
		{expSlot0, "dwa", 0},        // no options offered
		{expSlot3, "o drugiej", 0},  // a time, not option 2
		{expChoice2, "jeden", 1},
		{expChoice2, "druga", 2},
		{expChoice2, "trzy", 0},
		{expChoice2, "wybieram opcję pierwszą", 1},
		{dialogs.Expect{Kind: dialogs.ExpectChoice}, "siedem", 7},
	}
	for _, tt := range tests {
		got, _ := r.Understand(context.Background(), tt.exp, tt.text, now)
		if tt.want == 0 {
			if got.Kind == dialogs.IntentChoice {
				t.Errorf("Understand(%s/%d, %q) = choice %d, want no choice", tt.exp.Kind, tt.exp.Options, tt.text, got.Choice)
			}
			continue
		}
		if got.Kind != dialogs.IntentChoice || got.Choice != tt.want {
			t.Errorf("Understand(%s/%d, %q) = %+v, want choice %d", tt.exp.Kind, tt.exp.Options, tt.text, got, tt.want)
		}
	}
	// "o drugiej" with options on offer is 14:00 today.
	got, _ := r.Understand(context.Background(), expSlot3, "o drugiej", now)
	if want := time.Date(2026, 11, 24, 14, 0, 0, 0, warsaw(t)); got.Kind != dialogs.IntentSlot || !got.When.Equal(want) {
		t.Errorf(`"o drugiej" = %+v, want slot %v`, got, want)
	}
}

func TestRulesRejectsBadSlots(t *testing.T) {
	r := NewRules(warsaw(t))
	now := testNow(t)
	for _, text := range []string{
		"dzisiaj o dziewiątej", // passed
		"jutro",                // no time
		"jutro o dwudziestej piątej",
		"o 15:75",
		"trzydziestego pierwszego listopada o dziesiątej",
		"dwadzieścia",           // a bare number is no time
		"jeden dwa trzy cztery", // digits, not 1:02
		"kiedykolwiek",
	} {
		got, _ := r.Understand(context.Background(), expSlot0, text, now)
		if got.Kind == dialogs.IntentSlot || got.Kind == dialogs.IntentChoice {
			t.Errorf("Understand(slot, %q) = %+v, want no slot", text, got)
		}
	}
}

func TestNewRulesNilLocation(t *testing.T) {
	r := NewRules(nil)
	got, _ := r.Understand(context.Background(), expSlot0, "jutro o piętnastej", time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 1, 6, 15, 0, 0, 0, time.UTC); !got.When.Equal(want) {
		t.Errorf("nil location: %v, want %v", got.When, want)
	}
}

func BenchmarkRules(b *testing.B) {
	r := NewRules(warsaw(b))
	now := testNow(b)
	cases := []struct {
		name string
		exp  dialogs.Expect
		text string
	}{
		{"menu", expMenu, "Dzień dobry, chciałbym się dowiedzieć, ile jestem winien i jaki jest numer konta"},
		{"digits", expCase, "mój numer akt to jeden dwa trzy cztery pięć sześć siedem osiem"},
		{"date", expDOB, "drugiego stycznia tysiąc dziewięćset osiemdziesiątego roku"},
		{"slot", expSlot3, "to może jutro o piętnastej trzydzieści"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Understand(context.Background(), c.exp, c.text, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
