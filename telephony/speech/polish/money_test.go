package polish

import (
	"math"
	"strings"
	"testing"
)

func TestAmount(t *testing.T) {
	tests := []struct {
		grosze int64
		want   string
	}{
		{0, "zero złotych"},
		{1, "zero złotych jeden grosz"},
		{12, "zero złotych dwanaście groszy"},
		{100, "jeden złoty"},
		{101, "jeden złoty jeden grosz"},
		{102, "jeden złoty dwa grosze"},
		{105, "jeden złoty pięć groszy"},
		{122, "jeden złoty dwadzieścia dwa grosze"},
		{121, "jeden złoty dwadzieścia jeden groszy"},
		{200, "dwa złote"},
		{500, "pięć złotych"},
		{1100, "jedenaście złotych"},
		{1200, "dwanaście złotych"},
		{1400, "czternaście złotych"},
		{2100, "dwadzieścia jeden złotych"},
		{2200, "dwadzieścia dwa złote"},
		{10000, "sto złotych"},
		{10050, "sto złotych pięćdziesiąt groszy"},
		{11200, "sto dwanaście złotych"},
		{12200, "sto dwadzieścia dwa złote"},
		{100000, "tysiąc złotych"},
		{100100, "tysiąc jeden złotych"},
		{123456, "tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy"},
		{200000, "dwa tysiące złotych"},
		{2200000, "dwadzieścia dwa tysiące złotych"},
		{2200200, "dwadzieścia dwa tysiące dwa złote"},
		{100000000, "milion złotych"},
		{199999999, "milion dziewięćset dziewięćdziesiąt dziewięć tysięcy dziewięćset dziewięćdziesiąt dziewięć złotych dziewięćdziesiąt dziewięć groszy"},
		{-150, "minus jeden złoty pięćdziesiąt groszy"},
		{-1, "minus zero złotych jeden grosz"},
		{-200, "minus dwa złote"},
		{math.MinInt64, "minus dziewięćdziesiąt dwa biliardy dwieście trzydzieści trzy biliony siedemset dwadzieścia miliardów trzysta sześćdziesiąt osiem milionów pięćset czterdzieści siedem tysięcy siedemset pięćdziesiąt osiem złotych osiem groszy"},
	}
	for _, tt := range tests {
		if got := Amount(tt.grosze); got != tt.want {
			t.Errorf("Amount(%d) = %q, want %q", tt.grosze, got, tt.want)
		}
	}
}

// TestAmountAgreement checks, for every sum of whole złote up to 3000 and
// every grosze part, that each unit word agrees with the number before it.
func TestAmountAgreement(t *testing.T) {
	for zl := int64(0); zl <= 3000; zl++ {
		got := Amount(zl * 100)
		want := Cardinal(zl) + " " + Form(zl, "złoty", "złote", "złotych")
		if got != want {
			t.Fatalf("Amount(%d) = %q, want %q", zl*100, got, want)
		}
	}
	for gr := int64(1); gr < 100; gr++ {
		got := Amount(700 + gr)
		want := "siedem złotych " + Cardinal(gr) + " " + Form(gr, "grosz", "grosze", "groszy")
		if got != want {
			t.Fatalf("Amount(%d) = %q, want %q", 700+gr, got, want)
		}
	}
}

func BenchmarkAmount(b *testing.B) {
	var n int
	for b.Loop() {
		n += len(Amount(123456789))
	}
	if n == 0 || !strings.Contains(Amount(123456789), "złotych") {
		b.Fatal("unexpected amount")
	}
}
