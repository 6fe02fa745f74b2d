package audio

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// toneLevel returns the amplitude of the freq component of x (a single
// DFT bin over a whole number of samples, Hann-windowed so leakage from
// other tones stays > 100 dB down at the distances used here).
func toneLevel(x []int16, freq float64, rate int) float64 {
	n := len(x)
	var re, im, wsum float64
	for i, s := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += w * float64(s) * math.Cos(ph)
		im += w * float64(s) * math.Sin(ph)
		wsum += w
	}
	return 2 * math.Hypot(re, im) / wsum
}

// middle drops the first and last 50 ms, where the filter rings in/out.
func middle(x []int16, rate int) []int16 {
	edge := rate / 20
	return x[edge : len(x)-edge]
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

func TestResamplePassband(t *testing.T) {
	cases := []struct{ in, out int }{
		{22050, 8000}, {24000, 8000}, {16000, 8000}, {44100, 8000}, {48000, 8000}, {8000, 16000},
	}
	for _, c := range cases {
		for _, f := range []float64{300, 1000, 3400} {
			t.Run(fmt.Sprintf("%d-%d/%vHz", c.in, c.out, f), func(t *testing.T) {
				in := Tone(f, -6, c.in, c.in)
				out, err := Resample(in, c.in, c.out)
				if err != nil {
					t.Fatal(err)
				}
				want := toneLevel(middle(in, c.in), f, c.in)
				got := toneLevel(middle(out, c.out), f, c.out)
				if d := db(got / want); math.Abs(d) > 0.5 {
					t.Errorf("gain at %v Hz = %+.3f dB, want within ±0.5 dB", f, d)
				}
				// The output must be the tone, not the tone plus junk.
				if d := db(RMS(middle(out, c.out)) / RMS(middle(in, c.in))); math.Abs(d) > 0.5 {
					t.Errorf("RMS change = %+.3f dB, want within ±0.5 dB", d)
				}
			})
		}
	}
}

// TestResampleAliasRejection: tones above the output Nyquist frequency
// must vanish (≥ 70 dB down) instead of folding back into the band.
func TestResampleAliasRejection(t *testing.T) {
	cases := []struct {
		in, out int
		freqs   []float64
	}{
		{22050, 8000, []float64{5000, 7000, 9000, 11000}},
		{24000, 8000, []float64{5000, 7000, 11000}},
		{16000, 8000, []float64{5000, 7000}},
		{44100, 8000, []float64{5000, 7000, 15000, 20000}},
		{48000, 8000, []float64{5000, 7000, 12500, 23000}},
	}
	for _, c := range cases {
		for _, f := range c.freqs {
			t.Run(fmt.Sprintf("%d-%d/%vHz", c.in, c.out, f), func(t *testing.T) {
				in := Tone(f, -1, c.in, c.in)
				out, err := Resample(in, c.in, c.out)
				if err != nil {
					t.Fatal(err)
				}
				rel := db(RMS(middle(out, c.out)) / RMS(middle(in, c.in)))
				if rel > -70 {
					t.Errorf("%v Hz leaks at %.1f dB re input, want ≤ −70 dB", f, rel)
				}
				t.Logf("%v Hz: %.1f dB", f, rel)
			})
		}
	}
}

// TestResampleImageRejection: upsampling 8 k → 16 k must not create the
// mirror image of a tone at 8000−f.
func TestResampleImageRejection(t *testing.T) {
	in := Tone(1000, -1, Rate, Rate)
	out, err := Resample(in, Rate, 16000)
	if err != nil {
		t.Fatal(err)
	}
	sig := toneLevel(middle(out, 16000), 1000, 16000)
	img := toneLevel(middle(out, 16000), 7000, 16000)
	if rel := db(img / sig); rel > -70 {
		t.Errorf("image at 7 kHz is %.1f dB re 1 kHz, want ≤ −70 dB", rel)
	}
}

func TestResampleChunkedEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]int16, 22050)
	for i := range in {
		in[i] = int16(rng.IntN(40000) - 20000)
	}
	for _, c := range []struct{ in, out int }{{22050, 8000}, {8000, 16000}, {48000, 8000}, {8000, 8000}} {
		t.Run(fmt.Sprintf("%d-%d", c.in, c.out), func(t *testing.T) {
			want, err := Resample(in, c.in, c.out)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewResampler(c.in, c.out)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 { // second round checks Flush resets the state
				var got []int16
				rest := in
				for len(rest) > 0 {
					n := min(len(rest), rng.IntN(700)) // includes 0-length chunks
					got = r.Process(got, rest[:n])
					rest = rest[n:]
				}
				got = r.Flush(got)
				if !slices.Equal(got, want) {
					t.Fatalf("round %d: chunked output (%d samples) differs from one-shot (%d)", round, len(got), len(want))
				}
			}
		})
	}
}

func TestResampleLength(t *testing.T) {
	for _, c := range []struct{ in, out, n, want int }{
		{22050, 8000, 22050, 8000},
		{22050, 8000, 1, 1},
		{22050, 8000, 442, 161}, // ⌈442·160/441⌉
		{8000, 16000, 160, 320},
		{44100, 8000, 44100 * 3, 24000},
		{48000, 8000, 7, 2},
		{8000, 8000, 5, 5},
		{16000, 8000, 0, 0},
	} {
		out, err := Resample(make([]int16, c.n), c.in, c.out)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != c.want {
			t.Errorf("%d samples %d→%d Hz: got %d samples, want %d", c.n, c.in, c.out, len(out), c.want)
		}
	}
}

// TestResampleAlignment: the filter delay is compensated, so an impulse
// comes out where its time maps to.
func TestResampleAlignment(t *testing.T) {
	in := make([]int16, 22050)
	in[11025] = 30000 // t = 0.5 s
	out, err := Resample(in, 22050, 8000)
	if err != nil {
		t.Fatal(err)
	}
	peak := 0
	for i := range out {
		if math.Abs(float64(out[i])) > math.Abs(float64(out[peak])) {
			peak = i
		}
	}
	if peak < 3999 || peak > 4001 {
		t.Errorf("impulse at 0.5 s came out at sample %d, want ≈ 4000", peak)
	}
}

// TestResampleSaturates: the filter overshoots on a full-scale square
// wave; samples must clip at the rails rather than wrap around.
func TestResampleSaturates(t *testing.T) {
	in := make([]int16, 22050)
	for i := range in {
		in[i] = math.MaxInt16
		if (i/50)%2 == 1 {
			in[i] = math.MinInt16
		}
	}
	out, err := Resample(in, 22050, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if Peak(out) != math.MaxInt16 {
		t.Errorf("peak %d: expected the overshoot to reach the rail", Peak(out))
	}
	// Away from the edges (> 0.1 ms, where the ringing overshoots by up
	// to ~12 %) every sample must keep the square wave's sign and be
	// loud; a wrapped overshoot flips the sign.
	const half = 50.0 / 22050 // seconds per half period
	for i, s := range out {
		tm := float64(i) / 8000
		pos := tm / half
		if d := math.Abs(pos-math.Round(pos)) * half; d < 0.0001 {
			continue
		}
		want := 1.0
		if int(pos)%2 == 1 {
			want = -1
		}
		if float64(s)*want < 0.5*math.MaxInt16 {
			t.Fatalf("sample %d = %d, want sign %v and |x| > half scale (wrapped?)", i, s, want)
		}
	}
}

func TestSaturate(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int16
	}{
		{0, 0}, {0.49, 0}, {0.5, 1}, {-0.5, -1}, {-1.49, -1}, {32766.6, 32767}, {32767.4, 32767},
		{40000, 32767}, {-32768.4, -32768}, {-32769, -32768}, {-1e9, -32768}, {1e9, 32767},
	} {
		if got := saturate(c.in); got != c.want {
			t.Errorf("saturate(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestResampleErrors(t *testing.T) {
	for _, c := range []struct{ in, out int }{{0, 8000}, {8000, -1}, {8000, 999983}} {
		if _, err := NewResampler(c.in, c.out); !errors.Is(err, ErrRate) {
			t.Errorf("NewResampler(%d, %d) error = %v, want ErrRate", c.in, c.out, err)
		}
	}
	r, err := NewResampler(22050, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if l, m := r.Ratio(); l != 160 || m != 441 {
		t.Errorf("Ratio() = %d/%d, want 160/441", l, m)
	}
}

func benchResample(b *testing.B, in, out int) {
	src := Tone(440, -6, in, in) // one audio-second
	r, err := NewResampler(in, out)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int16, 0, out+64)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst = r.Process(dst[:0], src)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/audio-s")
}

func BenchmarkResample22050to8000(b *testing.B) { benchResample(b, 22050, 8000) }
func BenchmarkResample8000to16000(b *testing.B) { benchResample(b, 8000, 16000) }
func BenchmarkResample48000to8000(b *testing.B) { benchResample(b, 48000, 8000) }
func BenchmarkResample16000to8000(b *testing.B) { benchResample(b, 16000, 8000) }
