package audio

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestGain(t *testing.T) {
	cases := []struct {
		name string
		in   []int16
		db   float64
		want []int16
	}{
		{"-6 dB halves", []int16{1000, -1000, 0, 32767}, -6.0206, []int16{500, -500, 0, 16383}},
		{"+6 dB saturates", []int16{20000, -20000, 100}, 6.0206, []int16{32767, -32768, 200}},
		{"0 dB is identity", []int16{-32768, 32767, 1}, 0, []int16{-32768, 32767, 1}},
	}
	for _, c := range cases {
		got := slices.Clone(c.in)
		Gain(got, c.db)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLevels(t *testing.T) {
	if p := Peak([]int16{3, -32768, 5}); p != 32767 {
		t.Errorf("Peak with −32768 = %d, want 32767", p)
	}
	if p := Peak([]int16{3, -700, 500}); p != 700 {
		t.Errorf("Peak = %d, want 700", p)
	}
	if p := Peak(nil); p != 0 {
		t.Errorf("Peak(nil) = %d", p)
	}
	if r := RMS([]int16{3, -3, 3, -3}); r != 3 {
		t.Errorf("RMS = %v, want 3", r)
	}
	if r := RMS(nil); r != 0 {
		t.Errorf("RMS(nil) = %v", r)
	}
	if d := DBFS(FullScale); d != 0 {
		t.Errorf("DBFS(full scale) = %v", d)
	}
	if d := DBFS(FullScale / 10.0); math.Abs(d+20) > 1e-9 {
		t.Errorf("DBFS(FS/10) = %v, want −20", d)
	}
	if d := DBFS(0); d != SilenceDBFS {
		t.Errorf("DBFS(0) = %v, want %v", d, SilenceDBFS)
	}
	if d := DBFS(1e-9); d != SilenceDBFS {
		t.Errorf("DBFS(tiny) = %v, want floor %v", d, SilenceDBFS)
	}
}

func TestMixAndSilence(t *testing.T) {
	dst := []int16{30000, -30000, 5, 7}
	Mix(dst, []int16{30000, -30000, -5})
	if want := []int16{32767, -32768, 0, 7}; !slices.Equal(dst, want) {
		t.Errorf("Mix = %v, want %v", dst, want)
	}
	s := Silence(FrameSamples)
	if len(s) != FrameSamples || Peak(s) != 0 {
		t.Errorf("Silence: len %d peak %d", len(s), Peak(s))
	}
	if len(Silence(-1)) != 0 {
		t.Error("Silence(-1) not empty")
	}
}

func TestTone(t *testing.T) {
	x := Tone(1000, -6, Rate, Rate)
	if len(x) != Rate {
		t.Fatalf("len %d", len(x))
	}
	wantPeak := 32767 * math.Pow(10, -6.0/20)
	if p := float64(Peak(x)); math.Abs(p-wantPeak) > 1 {
		t.Errorf("peak %v, want %.0f", p, wantPeak)
	}
	if r := DBFS(RMS(x)); math.Abs(r-(-6-3.0103)) > 0.05 {
		t.Errorf("RMS level %.3f dBFS, want ≈ −9.01 (sine is 3 dB below its peak)", r)
	}
	// Frequency: 1 kHz at 8 kHz repeats every 8 samples.
	for i := 8; i < len(x); i++ {
		if d := int(x[i]) - int(x[i-8]); d < -1 || d > 1 {
			t.Fatalf("sample %d = %d but sample %d = %d: not periodic at 1 kHz", i, x[i], i-8, x[i-8])
		}
	}
	if lvl := toneLevel(x, 1000, Rate); math.Abs(lvl-wantPeak) > 2 {
		t.Errorf("1 kHz component %v, want %.0f", lvl, wantPeak)
	}
	if Peak(Tone(440, 3, 100, Rate)) != 32767 {
		t.Error("+3 dBFS tone should saturate at 32767")
	}
}

func TestFrames(t *testing.T) {
	pcm := make([]int16, 2*FrameSamples+10)
	for i := range pcm {
		pcm[i] = int16(i + 1)
	}
	fr := Frames(pcm)
	if len(fr) != 3 {
		t.Fatalf("%d frames, want 3", len(fr))
	}
	for i, f := range fr {
		if len(f) != FrameSamples {
			t.Fatalf("frame %d has %d samples", i, len(f))
		}
	}
	if fr[1][0] != FrameSamples+1 || fr[2][9] != 2*FrameSamples+10 || fr[2][10] != 0 || fr[2][FrameSamples-1] != 0 {
		t.Errorf("frame contents wrong: %d %d %d", fr[1][0], fr[2][9], fr[2][10])
	}
	fr[0] = append(fr[0], 99) // capped: must not overwrite frame 1
	if pcm[FrameSamples] != FrameSamples+1 {
		t.Error("appending to a frame clobbered the next one")
	}
	if len(Frames(nil)) != 0 || len(Frames(pcm[:FrameSamples])) != 1 {
		t.Error("Frames of empty / exactly one frame wrong")
	}
	if Duration(FrameSamples) != FrameDuration {
		t.Errorf("Duration(%d) = %v", FrameSamples, Duration(FrameSamples))
	}
	if Duration(Rate) != time.Second {
		t.Errorf("Duration(Rate) = %v", Duration(Rate))
	}
}

func TestFrameReader(t *testing.T) {
	pcm := make([]int16, FrameSamples+1)
	for i := range pcm {
		pcm[i] = int16(i + 1)
	}
	r := NewFrameReader(pcm)
	if r.Remaining() != 2 {
		t.Fatalf("Remaining = %d, want 2", r.Remaining())
	}
	f, ok := r.Next()
	if !ok || f[0] != 1 || f[FrameSamples-1] != FrameSamples {
		t.Fatalf("first frame ok=%v [%d…%d]", ok, f[0], f[FrameSamples-1])
	}
	var g Frame
	for i := range g {
		g[i] = -1 // must be overwritten by padding
	}
	if !r.ReadFrame(&g) || g[0] != FrameSamples+1 || g[1] != 0 || g[FrameSamples-1] != 0 {
		t.Fatalf("last frame not zero-padded: %d %d %d", g[0], g[1], g[FrameSamples-1])
	}
	if _, ok := r.Next(); ok || r.Remaining() != 0 {
		t.Error("reader not exhausted after two frames")
	}
	r.Reset()
	if r.Remaining() != 2 {
		t.Error("Reset did not rewind")
	}
	var zero FrameReader
	if _, ok := zero.Next(); ok {
		t.Error("zero FrameReader returned a frame")
	}
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset()
		for r.ReadFrame(&g) {
		}
	})
	if allocs != 0 {
		t.Errorf("ReadFrame allocates %.1f per run", allocs)
	}
}
