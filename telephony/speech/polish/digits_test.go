package polish

import (
	"strings"
	"testing"
)

func TestDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"0123456789", "zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć"},
		{"123", "jeden dwa trzy"},
		{"12/24", "jeden dwa łamane przez dwa cztery"},
		{"KM 12-3", "jeden dwa myślnik trzy"},
		{"*1#", "gwiazdka jeden krzyżyk"},
		{"  0 0  ", "zero zero"},
		{"ąę", ""},
	}
	for _, tt := range tests {
		if got := Digits(tt.in); got != tt.want {
			t.Errorf("Digits(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAccount(t *testing.T) {
	nrb := "dwa sześć, jeden zero jeden zero, jeden zero jeden cztery, zero zero zero zero, zero siedem jeden dwa, jeden dziewięć osiem jeden, dwa osiem siedem cztery"
	tests := []struct{ in, want string }{
		{"26101010140000071219812874", nrb},
		{"26 1010 1014 0000 0712 1981 2874", nrb},
		{"PL26 1010 1014 0000 0712 1981 2874", nrb},
		{"123456", "jeden dwa trzy cztery, pięć sześć"},
		{"12345678", "jeden dwa trzy cztery, pięć sześć siedem osiem"},
		{"1", "jeden"},
		{"", ""},
		{"  ", ""},
	}
	for _, tt := range tests {
		if got := Account(tt.in); got != tt.want {
			t.Errorf("Account(%q) =\n %q, want\n %q", tt.in, got, tt.want)
		}
	}
}

// TestAccountKeepsEveryDigit checks that grouping never loses or reorders
// digits, for every length up to 40.
func TestAccountKeepsEveryDigit(t *testing.T) {
	const src = "9876543210"
	for n := 1; n <= 40; n++ {
		in := strings.Repeat(src, 4)[:n]
		got := Account(in)
		if flat := strings.ReplaceAll(got, ",", ""); flat != Digits(in) {
			t.Fatalf("Account(%q) = %q loses digits", in, got)
		}
		groups := strings.Split(got, ", ")
		for i, g := range groups {
			size := len(strings.Fields(g))
			limit := 4
			if n == nrbLen && i == 0 {
				limit = 2
			}
			if size > limit || size == 0 {
				t.Fatalf("Account(%q) group %d has %d digits", in, i, size)
			}
		}
	}
}
