package polish

import (
	"strings"
	"testing"
)

func TestDateDays(t *testing.T) {
	want := []string{"",
		"pierwszego", "drugiego", "trzeciego", "czwartego", "piątego", "szóstego", "siódmego",
		"ósmego", "dziewiątego", "dziesiątego", "jedenastego", "dwunastego", "trzynastego",
		"czternastego", "piętnastego", "szesnastego", "siedemnastego", "osiemnastego",
		"dziewiętnastego", "dwudziestego", "dwudziestego pierwszego", "dwudziestego drugiego",
		"dwudziestego trzeciego", "dwudziestego czwartego", "dwudziestego piątego",
		"dwudziestego szóstego", "dwudziestego siódmego", "dwudziestego ósmego",
		"dwudziestego dziewiątego", "trzydziestego", "trzydziestego pierwszego"}
	for day := 1; day <= 31; day++ {
		if got, w := DateNoYear(1, day), want[day]+" stycznia"; got != w {
			t.Errorf("DateNoYear(1, %d) = %q, want %q", day, got, w)
		}
	}
}

func TestDateMonths(t *testing.T) {
	want := []string{"", "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
		"sierpnia", "września", "października", "listopada", "grudnia"}
	for m := 1; m <= 12; m++ {
		if got, w := DateNoYear(m, 15), "piętnastego "+want[m]; got != w {
			t.Errorf("DateNoYear(%d, 15) = %q, want %q", m, got, w)
		}
	}
	// Out of range never panics and stays readable.
	if got := DateNoYear(13, 1); got != "pierwszego trzynaście" {
		t.Errorf("DateNoYear(13, 1) = %q", got)
	}
}

func TestDate(t *testing.T) {
	tests := []struct {
		y, m, d int
		want    string
	}{
		{2026, 3, 15, "piętnastego marca dwa tysiące dwudziestego szóstego roku"},
		{1980, 1, 1, "pierwszego stycznia tysiąc dziewięćset osiemdziesiątego roku"},
		{2000, 1, 2, "drugiego stycznia dwutysięcznego roku"},
		{2100, 12, 31, "trzydziestego pierwszego grudnia dwa tysiące setnego roku"},
		{1999, 5, 3, "trzeciego maja tysiąc dziewięćset dziewięćdziesiątego dziewiątego roku"},
		{2010, 6, 10, "dziesiątego czerwca dwa tysiące dziesiątego roku"},
		{2011, 7, 11, "jedenastego lipca dwa tysiące jedenastego roku"},
		{2020, 8, 20, "dwudziestego sierpnia dwa tysiące dwudziestego roku"},
		{1900, 9, 9, "dziewiątego września tysiąc dziewięćsetnego roku"},
		{1901, 10, 12, "dwunastego października tysiąc dziewięćset pierwszego roku"},
		{1912, 11, 22, "dwudziestego drugiego listopada tysiąc dziewięćset dwunastego roku"},
		{1945, 5, 8, "ósmego maja tysiąc dziewięćset czterdziestego piątego roku"},
		{2001, 9, 11, "jedenastego września dwa tysiące pierwszego roku"},
		{2002, 2, 28, "dwudziestego ósmego lutego dwa tysiące drugiego roku"},
		{2024, 2, 29, "dwudziestego dziewiątego lutego dwa tysiące dwudziestego czwartego roku"},
		{2099, 4, 30, "trzydziestego kwietnia dwa tysiące dziewięćdziesiątego dziewiątego roku"},
		{1000, 1, 1, "pierwszego stycznia tysięcznego roku"},
		{1410, 7, 15, "piętnastego lipca tysiąc czterysta dziesiątego roku"},
	}
	for _, tt := range tests {
		if got := Date(tt.y, tt.m, tt.d); got != tt.want {
			t.Errorf("Date(%d, %d, %d) = %q, want %q", tt.y, tt.m, tt.d, got, tt.want)
		}
	}
}

// TestDateYearsShape checks every year 1900–2100: the thousands and
// hundreds stay cardinal, the rest is genitive ordinal, and it ends in roku.
func TestDateYearsShape(t *testing.T) {
	for y := 1900; y <= 2100; y++ {
		got := Date(y, 1, 1)
		rest, ok := strings.CutPrefix(got, "pierwszego stycznia ")
		if !ok || !strings.HasSuffix(rest, "ego roku") {
			t.Fatalf("Date(%d) = %q: want day, month and a genitive year", y, got)
		}
		switch {
		case y == 2000:
			if rest != "dwutysięcznego roku" {
				t.Errorf("year %d = %q", y, rest)
			}
		case y < 2000 && !strings.HasPrefix(rest, "tysiąc dziewięćset"):
			t.Errorf("year %d = %q, want tysiąc dziewięćset…", y, rest)
		case y > 2000 && y < 2100 && !strings.HasPrefix(rest, "dwa tysiące "):
			t.Errorf("year %d = %q, want dwa tysiące…", y, rest)
		}
		ord := strings.TrimSuffix(rest, " roku")
		ord = strings.TrimPrefix(ord, "tysiąc dziewięćset ")
		ord = strings.TrimPrefix(ord, "tysiąc ")
		ord = strings.TrimPrefix(ord, "dwa tysiące ")
		for _, w := range strings.Fields(ord) {
			if !strings.HasSuffix(w, "ego") {
				t.Errorf("year %d = %q: %q is not a genitive ordinal", y, rest, w)
			}
		}
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		h, m int
		want string
	}{
		{0, 0, "zerowej"},
		{0, 30, "zerowej trzydzieści"},
		{1, 0, "pierwszej"},
		{2, 2, "drugiej zero dwa"},
		{3, 45, "trzeciej czterdzieści pięć"},
		{8, 0, "ósmej"},
		{8, 15, "ósmej piętnaście"},
		{9, 0, "dziewiątej"},
		{10, 10, "dziesiątej dziesięć"},
		{12, 0, "dwunastej"},
		{15, 0, "piętnastej"},
		{15, 5, "piętnastej zero pięć"},
		{15, 30, "piętnastej trzydzieści"},
		{17, 1, "siedemnastej zero jeden"},
		{20, 0, "dwudziestej"},
		{21, 0, "dwudziestej pierwszej"},
		{22, 22, "dwudziestej drugiej dwadzieścia dwa"},
		{23, 59, "dwudziestej trzeciej pięćdziesiąt dziewięć"},
	}
	for _, tt := range tests {
		if got := Time(tt.h, tt.m); got != tt.want {
			t.Errorf("Time(%d, %d) = %q, want %q", tt.h, tt.m, got, tt.want)
		}
	}
}

// TestTimeAllMinutes checks every minute of the day: the hour word is a
// feminine locative (-ej) and the minute part reads back as the minute.
func TestTimeAllMinutes(t *testing.T) {
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			got := Time(h, m)
			hour := ordinal(h, locFem)
			rest, ok := strings.CutPrefix(got, hour)
			if !ok {
				t.Fatalf("Time(%d, %d) = %q, want prefix %q", h, m, got, hour)
			}
			for _, w := range strings.Fields(hour) {
				if !strings.HasSuffix(w, "ej") {
					t.Fatalf("Time(%d, %d): hour word %q is not locative feminine", h, m, w)
				}
			}
			rest = strings.TrimPrefix(rest, " ")
			if m == 0 {
				if rest != "" {
					t.Fatalf("Time(%d, 0) = %q, want no minutes", h, got)
				}
				continue
			}
			if m < 10 {
				var ok bool
				if rest, ok = strings.CutPrefix(rest, "zero "); !ok {
					t.Fatalf("Time(%d, %d) = %q, want leading zero", h, m, got)
				}
			}
			if v, err := parseCardinal(rest); err != nil || v != int64(m) {
				t.Fatalf("Time(%d, %d) minutes %q parse to %d, %v", h, m, rest, v, err)
			}
		}
	}
}
