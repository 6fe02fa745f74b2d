package cases

import "testing"

func TestParseAmount(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"0.1", 10},
		{"0.10", 10},
		{"0.01", 1},
		{"1234.56", 123456},
		{"12", 1200},
		{"12.5", 1250},
		{"007.50", 750},
		{"999999999999.99", MaxAmount},
		{"000000000000001", 100}, // leading zeros do not count toward the cap
	}
	for _, tc := range good {
		got, err := ParseAmount(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"1,5", `"1,5" is not an amount like 1234.56`},
		{"12,50", `"12,50" is not an amount like 1234.56`},
		{"-1", `"-1" is not an amount like 1234.56`},
		{"+1", `"+1" is not an amount like 1234.56`},
		{"1.234", `"1.234" is not an amount like 1234.56`},
		{"", `"" is not an amount like 1234.56`},
		{"1e3", `"1e3" is not an amount like 1234.56`},
		{" 1", `" 1" is not an amount like 1234.56`},
		{"1 ", `"1 " is not an amount like 1234.56`},
		{"1 000.00", `"1 000.00" is not an amount like 1234.56`},
		{"1.", `"1." is not an amount like 1234.56`},
		{".5", `".5" is not an amount like 1234.56`},
		{"1.2.3", `"1.2.3" is not an amount like 1234.56`},
		{"0x10", `"0x10" is not an amount like 1234.56`},
		{"NaN", `"NaN" is not an amount like 1234.56`},
		{"١٢", `"١٢" is not an amount like 1234.56`}, // non-ASCII digits
		{"1000000000000", `"1000000000000" is more than 999999999999.99`},
		{"99999999999999999999999", `"99999999999999999999999" is more than 999999999999.99`},
	}
	for _, tc := range bad {
		got, err := ParseAmount(tc.in)
		if err == nil {
			t.Errorf("ParseAmount(%q) = %d, want error %q", tc.in, got, tc.msg)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("ParseAmount(%q) error = %q, want %q", tc.in, err, tc.msg)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0.00"}, {1, "0.01"}, {10, "0.10"}, {123456, "1234.56"}, {-5, "-0.05"}, {MaxAmount, "999999999999.99"}} {
		if got := FormatAmount(tc.in); got != tc.want {
			t.Errorf("FormatAmount(%d) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.in >= 0 {
			if back, err := ParseAmount(tc.want); err != nil || back != tc.in {
				t.Errorf("ParseAmount(FormatAmount(%d)) = %d, %v", tc.in, back, err)
			}
		}
	}
}
