package polish

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// parseCardinal is an independent reader of Polish cardinal words, used to
// check that Cardinal says the number it was given.
func parseCardinal(s string) (int64, error) {
	small := map[string]int64{}
	for i, w := range units {
		small[w] = int64(i)
	}
	small["jedna"], small["dwie"] = 1, 2
	for i, w := range teens {
		small[w] = int64(10 + i)
	}
	for i, w := range tens[2:] {
		small[w] = int64(20 + 10*i)
	}
	for i, w := range hundreds[1:] {
		small[w] = int64(100 * (i + 1))
	}
	scale := map[string]uint64{}
	mult := uint64(1)
	for _, sc := range scales[1:] {
		mult *= 1000
		scale[sc.one], scale[sc.few], scale[sc.many] = mult, mult, mult
	}
	fields := strings.Fields(s)
	neg := len(fields) > 0 && fields[0] == "minus"
	if neg {
		fields = fields[1:]
	}
	if len(fields) == 0 {
		return 0, errors.New("no words")
	}
	var total, cur uint64
	for _, w := range fields {
		if v, ok := small[w]; ok {
			cur += uint64(v)
			continue
		}
		m, ok := scale[w]
		if !ok {
			return 0, fmt.Errorf("unknown word %q", w)
		}
		if cur == 0 {
			cur = 1
		}
		total += cur * m
		cur = 0
	}
	total += cur
	if neg {
		return -int64(total-1) - 1, nil // also covers MinInt64
	}
	return int64(total), nil
}

// randomInts covers every magnitude: small numbers, round numbers and random
// numbers of every length, both signs.
func randomInts(t *testing.T) []int64 {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var ns []int64
	for n := int64(0); n <= 3000; n++ {
		ns = append(ns, n, -n)
	}
	for p := int64(1); p <= math.MaxInt64/10; p *= 10 {
		ns = append(ns, p, p+1, 2*p, 5*p, 12*p, 22*p)
	}
	for range 5000 {
		n := r.Int64() >> r.IntN(63) // spread over every magnitude
		if r.IntN(4) == 0 {
			n = -n
		}
		ns = append(ns, n)
	}
	return append(ns, math.MaxInt64, math.MinInt64)
}

// checkWords checks the spacing and wording rules shared by every output.
func checkWords(t *testing.T, what, s string) {
	t.Helper()
	if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
		t.Fatalf("%s = %q: bad spacing", what, s)
	}
	// A scale word is never preceded by a bare one, and never by "dwie".
	fields := strings.Fields(s)
	for i := 1; i < len(fields); i++ {
		prev, w := fields[i-1], fields[i]
		for _, sc := range scales[1:] {
			if (prev == "jeden" || prev == "jedna") && w == sc.one || prev == "dwie" && (w == sc.one || w == sc.few || w == sc.many) {
				t.Fatalf("%s = %q: contains %q", what, s, prev+" "+w)
			}
		}
	}
}

func TestCardinalRoundTrip(t *testing.T) {
	for _, n := range randomInts(t) {
		for _, f := range []struct {
			name string
			fn   func(int64) string
		}{{"Cardinal", Cardinal}, {"CardinalFeminine", CardinalFeminine}} {
			s := f.fn(n)
			checkWords(t, fmt.Sprintf("%s(%d)", f.name, n), s)
			got, err := parseCardinal(s)
			if err != nil || got != n {
				t.Fatalf("%s(%d) = %q reads back as %d (%v)", f.name, n, s, got, err)
			}
		}
	}
}

// TestScaleWordsAgree checks that every scale noun agrees with the group
// said before it (tysiąc / dwa tysiące / pięć tysięcy …).
func TestScaleWordsAgree(t *testing.T) {
	forms := map[string]int{} // word → 0 one, 1 few, 2 many
	for _, sc := range scales[1:] {
		forms[sc.one], forms[sc.few], forms[sc.many] = 0, 1, 2
	}
	for _, n := range randomInts(t) {
		fields := strings.Fields(Cardinal(n))
		start := 0
		if n < 0 {
			start = 1 // "minus"
		}
		for i, w := range fields {
			f, ok := forms[w]
			if !ok {
				continue
			}
			group := int64(1)
			if i > start {
				v, err := parseCardinal(strings.Join(fields[start:i], " "))
				if err != nil {
					t.Fatal(err)
				}
				group = v
			}
			if group < 0 {
				group = -group
			}
			if want := Form(group, "0", "1", "2"); want != fmt.Sprint(f) {
				t.Fatalf("Cardinal(%d) = %q: %q after group %d", n, Cardinal(n), w, group)
			}
			start = i + 1
		}
	}
}

// TestFormRules checks Form against the rules spelled out as a list.
func TestFormRules(t *testing.T) {
	for n := int64(0); n <= 1000; n++ {
		last, lastTwo := n%10, n%100
		want := "many"
		switch {
		case n == 1:
			want = "one"
		case (last == 2 || last == 3 || last == 4) && lastTwo != 12 && lastTwo != 13 && lastTwo != 14:
			want = "few"
		}
		if got := Form(n, "one", "few", "many"); got != want {
			t.Errorf("Form(%d) = %s, want %s", n, got, want)
		}
		if got := Form(-n, "one", "few", "many"); got != want {
			t.Errorf("Form(%d) = %s, want %s", -n, got, want)
		}
	}
}

func TestAmountRoundTrip(t *testing.T) {
	for _, g := range randomInts(t) {
		s := Amount(g)
		checkWords(t, fmt.Sprintf("Amount(%d)", g), s)
		neg := strings.HasPrefix(s, "minus ")
		rest := strings.TrimPrefix(s, "minus ")
		var zl, gr int64
		var zlWords, grWords string
		for _, unit := range []string{" złotych", " złote", " złoty"} {
			if i := strings.Index(rest, unit); i >= 0 {
				zlWords, grWords = rest[:i], strings.TrimPrefix(rest[i+len(unit):], " ")
				if Form(mustParse(t, zlWords), "złoty", "złote", "złotych") != unit[1:] {
					t.Fatalf("Amount(%d) = %q: unit disagrees", g, s)
				}
				break
			}
		}
		zl = mustParse(t, zlWords)
		if grWords != "" {
			f := strings.Fields(grWords)
			grWords = strings.Join(f[:len(f)-1], " ")
			gr = mustParse(t, grWords)
			if gr == 0 || Form(gr, "grosz", "grosze", "groszy") != f[len(f)-1] {
				t.Fatalf("Amount(%d) = %q: grosze part wrong", g, s)
			}
		}
		got := uint64(zl)*100 + uint64(gr)
		if neg != (g < 0) || got != abs(g) {
			t.Fatalf("Amount(%d) = %q reads back as %d (neg %v)", g, s, got, neg)
		}
	}
}

func mustParse(t *testing.T, s string) int64 {
	t.Helper()
	v, err := parseCardinal(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func TestParseCardinalRejects(t *testing.T) {
	// The reader must be able to fail, or the round trips prove nothing.
	if _, err := parseCardinal("dwa banany"); err == nil {
		t.Fatal("parseCardinal accepted an unknown word")
	}
	if v, _ := parseCardinal("dwa tysiące trzy"); v != 2003 {
		t.Fatalf("parseCardinal(dwa tysiące trzy) = %d", v)
	}
}
