package polish

import (
	"math"
	"testing"
)

func TestCardinal(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "zero"},
		{1, "jeden"},
		{2, "dwa"},
		{5, "pięć"},
		{10, "dziesięć"},
		{11, "jedenaście"},
		{12, "dwanaście"},
		{13, "trzynaście"},
		{14, "czternaście"},
		{19, "dziewiętnaście"},
		{20, "dwadzieścia"},
		{21, "dwadzieścia jeden"},
		{22, "dwadzieścia dwa"},
		{25, "dwadzieścia pięć"},
		{40, "czterdzieści"},
		{99, "dziewięćdziesiąt dziewięć"},
		{100, "sto"},
		{101, "sto jeden"},
		{111, "sto jedenaście"},
		{112, "sto dwanaście"},
		{122, "sto dwadzieścia dwa"},
		{200, "dwieście"},
		{300, "trzysta"},
		{400, "czterysta"},
		{999, "dziewięćset dziewięćdziesiąt dziewięć"},
		{1000, "tysiąc"},
		{1001, "tysiąc jeden"},
		{1234, "tysiąc dwieście trzydzieści cztery"},
		{2000, "dwa tysiące"},
		{4000, "cztery tysiące"},
		{5000, "pięć tysięcy"},
		{11000, "jedenaście tysięcy"},
		{12000, "dwanaście tysięcy"},
		{14000, "czternaście tysięcy"},
		{21000, "dwadzieścia jeden tysięcy"},
		{22000, "dwadzieścia dwa tysiące"},
		{100000, "sto tysięcy"},
		{101000, "sto jeden tysięcy"},
		{102000, "sto dwa tysiące"},
		{112000, "sto dwanaście tysięcy"},
		{999999, "dziewięćset dziewięćdziesiąt dziewięć tysięcy dziewięćset dziewięćdziesiąt dziewięć"},
		{1000000, "milion"},
		{1000001, "milion jeden"},
		{1001000, "milion tysiąc"},
		{2000000, "dwa miliony"},
		{5000000, "pięć milionów"},
		{12000000, "dwanaście milionów"},
		{22000000, "dwadzieścia dwa miliony"},
		{1000000000, "miliard"},
		{2000000000, "dwa miliardy"},
		{5000000000, "pięć miliardów"},
		{999999999999, "dziewięćset dziewięćdziesiąt dziewięć miliardów dziewięćset dziewięćdziesiąt dziewięć milionów dziewięćset dziewięćdziesiąt dziewięć tysięcy dziewięćset dziewięćdziesiąt dziewięć"},
		{1000000000000, "bilion"},
		{3000000000000000, "trzy biliardy"},
		{1000000000000000000, "trylion"},
		{math.MaxInt64, "dziewięć trylionów dwieście dwadzieścia trzy biliardy trzysta siedemdziesiąt dwa biliony trzydzieści sześć miliardów osiemset pięćdziesiąt cztery miliony siedemset siedemdziesiąt pięć tysięcy osiemset siedem"},
		{math.MinInt64, "minus dziewięć trylionów dwieście dwadzieścia trzy biliardy trzysta siedemdziesiąt dwa biliony trzydzieści sześć miliardów osiemset pięćdziesiąt cztery miliony siedemset siedemdziesiąt pięć tysięcy osiemset osiem"},
		{-1, "minus jeden"},
		{-22000, "minus dwadzieścia dwa tysiące"},
	}
	for _, tt := range tests {
		if got := Cardinal(tt.n); got != tt.want {
			t.Errorf("Cardinal(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCardinalFeminine(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "zero"},
		{1, "jedna"},
		{2, "dwie"},
		{3, "trzy"},
		{12, "dwanaście"},
		{21, "dwadzieścia jeden"},
		{22, "dwadzieścia dwie"},
		{32, "trzydzieści dwie"},
		{101, "sto jeden"},
		{102, "sto dwie"},
		{200, "dwieście"},
		{202, "dwieście dwie"},
		{1001, "tysiąc jeden"},
		{2002, "dwa tysiące dwie"},
		{22000, "dwadzieścia dwa tysiące"}, // tysiąc is masculine
		{-1, "minus jedna"},
		{-2, "minus dwie"},
	}
	for _, tt := range tests {
		if got := CardinalFeminine(tt.n); got != tt.want {
			t.Errorf("CardinalFeminine(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestForm(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "rat"}, {1, "rata"}, {2, "raty"}, {3, "raty"}, {4, "raty"}, {5, "rat"},
		{11, "rat"}, {12, "rat"}, {13, "rat"}, {14, "rat"}, {15, "rat"},
		{21, "rat"}, {22, "raty"}, {24, "raty"}, {25, "rat"}, {101, "rat"},
		{102, "raty"}, {112, "rat"}, {114, "rat"}, {122, "raty"}, {1001, "rat"},
		{-1, "rata"}, {-3, "raty"}, {math.MinInt64, "rat"},
	}
	for _, tt := range tests {
		if got := Form(tt.n, "rata", "raty", "rat"); got != tt.want {
			t.Errorf("Form(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
