package polish

import "testing"

func TestOrdinal(t *testing.T) {
	tests := []struct {
		n         int
		masc, fem string
		gen, locF string
	}{
		{0, "zerowy", "zerowa", "zerowego", "zerowej"},
		{1, "pierwszy", "pierwsza", "pierwszego", "pierwszej"},
		{2, "drugi", "druga", "drugiego", "drugiej"},
		{3, "trzeci", "trzecia", "trzeciego", "trzeciej"},
		{4, "czwarty", "czwarta", "czwartego", "czwartej"},
		{7, "siódmy", "siódma", "siódmego", "siódmej"},
		{12, "dwunasty", "dwunasta", "dwunastego", "dwunastej"},
		{20, "dwudziesty", "dwudziesta", "dwudziestego", "dwudziestej"},
		{22, "dwudziesty drugi", "dwudziesta druga", "dwudziestego drugiego", "dwudziestej drugiej"},
		{43, "czterdziesty trzeci", "czterdziesta trzecia", "czterdziestego trzeciego", "czterdziestej trzeciej"},
		{99, "dziewięćdziesiąty dziewiąty", "dziewięćdziesiąta dziewiąta", "dziewięćdziesiątego dziewiątego", "dziewięćdziesiątej dziewiątej"},
		{100, "setny", "setna", "setnego", "setnej"},
		{101, "sto pierwszy", "sto pierwsza", "sto pierwszego", "sto pierwszej"},
		{300, "trzechsetny", "trzechsetna", "trzechsetnego", "trzechsetnej"},
		{1000, "tysięczny", "tysięczna", "tysięcznego", "tysięcznej"},
		{1100, "tysiąc setny", "tysiąc setna", "tysiąc setnego", "tysiąc setnej"},
		{2000, "dwutysięczny", "dwutysięczna", "dwutysięcznego", "dwutysięcznej"},
		{2026, "dwa tysiące dwudziesty szósty", "dwa tysiące dwudziesta szósta", "dwa tysiące dwudziestego szóstego", "dwa tysiące dwudziestej szóstej"},
		{5000, "pięciotysięczny", "pięciotysięczna", "pięciotysięcznego", "pięciotysięcznej"},
		{12345, "dwanaście tysięcy trzysta czterdziesty piąty", "dwanaście tysięcy trzysta czterdziesta piąta", "dwanaście tysięcy trzysta czterdziestego piątego", "dwanaście tysięcy trzysta czterdziestej piątej"},
		{20000, "dwadzieścia tysięcy", "dwadzieścia tysięcy", "dwadzieścia tysięcy", "dwadzieścia tysięcy"}, // documented fallback
		{-3, "minus trzy", "minus trzy", "minus trzy", "minus trzy"}, // documented fallback
	}
	for _, tt := range tests {
		for _, c := range []struct {
			name string
			got  string
			want string
		}{
			{"Ordinal", Ordinal(tt.n), tt.masc},
			{"OrdinalFeminine", OrdinalFeminine(tt.n), tt.fem},
			{"genitive", ordinal(tt.n, genMasc), tt.gen},
			{"locative feminine", ordinal(tt.n, locFem), tt.locF},
		} {
			if c.got != c.want {
				t.Errorf("%s(%d) = %q, want %q", c.name, tt.n, c.got, c.want)
			}
		}
	}
}
