package dtmf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hotline/telephony/audio"
)

func ulawRoundTrip(pcm []int16) []int16 {
	return audio.DecodeUlaw(nil, audio.EncodeUlaw(nil, pcm))
}

func alawRoundTrip(pcm []int16) []int16 {
	return audio.DecodeAlaw(nil, audio.EncodeAlaw(nil, pcm))
}

// TestDetectorAcceptance is the ITU-T Q.24-style acceptance table: 64 presses
// (16 keys × 4, 100 ms on / 100 ms off) must all be found, in order, under
// each condition that a real line may impose.
func TestDetectorAcceptance(t *testing.T) {
	type tc struct {
		name  string
		spec  func(*toneSpec)
		post  func([]float64) []int16
		chunk int
	}
	plain := toPCM
	noisy := func(snr float64) func([]float64) []int16 {
		return func(x []float64) []int16 { addWhiteNoise(x, snr, 7); return toPCM(x) }
	}
	cases := []tc{
		{name: "clean", post: plain, chunk: 160},
		{name: "clean odd chunks", post: plain, chunk: 37},
		{name: "clean one big chunk", post: plain, chunk: 1 << 30},
		{name: "ulaw round trip", post: func(x []float64) []int16 { return ulawRoundTrip(toPCM(x)) }, chunk: 160},
		{name: "alaw round trip", post: func(x []float64) []int16 { return alawRoundTrip(toPCM(x)) }, chunk: 160},
		{name: "10 dB SNR white noise", post: noisy(10), chunk: 160},
		{name: "10 dB SNR then alaw", post: func(x []float64) []int16 { addWhiteNoise(x, 10, 3); return alawRoundTrip(toPCM(x)) }, chunk: 160},
		{name: "-36 dBFS per tone", spec: func(s *toneSpec) { s.rowDB, s.colDB = -36, -36 }, post: plain, chunk: 160},
		{name: "-36 dBFS per tone ulaw", spec: func(s *toneSpec) { s.rowDB, s.colDB = -36, -36 }, post: func(x []float64) []int16 { return ulawRoundTrip(toPCM(x)) }, chunk: 160},
		{name: "+1.5 % frequency", spec: func(s *toneSpec) { s.freqScale = 1.015 }, post: plain, chunk: 160},
		{name: "-1.5 % frequency", spec: func(s *toneSpec) { s.freqScale = 0.985 }, post: plain, chunk: 160},
		{name: "normal twist 8 dB (high group weaker)", spec: func(s *toneSpec) { s.colDB = s.rowDB - 8 }, post: plain, chunk: 160},
		{name: "reverse twist 4 dB (high group stronger)", spec: func(s *toneSpec) { s.colDB = s.rowDB + 4 }, post: plain, chunk: 160},
		{name: "40 ms on 40 ms off", spec: func(s *toneSpec) { s.onMs, s.offMs = 40, 40 }, post: plain, chunk: 160},
	}
	for lead := 0; lead < hopSize; lead += 10 {
		cases = append(cases, tc{
			name:  "40 ms on 40 ms off, offset " + itoa(lead),
			spec:  func(s *toneSpec) { s.onMs, s.offMs, s.leadSamples = 40, 40, lead },
			post:  plain,
			chunk: 160,
		})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := defaultSpec()
			if c.spec != nil {
				c.spec(&s)
			}
			got := detectAll(c.post(synth(allKeys4, s)), c.chunk)
			if got != allKeys4 {
				t.Errorf("detected %d keys %q\nwant 64 keys %q", len(got), got, allKeys4)
			}
		})
	}
}

// TestDetectorRejection: what Q.24 says must not be a key.
func TestDetectorRejection(t *testing.T) {
	cases := []struct {
		name string
		spec func(*toneSpec)
	}{
		{"+3.5 % frequency", func(s *toneSpec) { s.freqScale = 1.035 }},
		{"-3.5 % frequency", func(s *toneSpec) { s.freqScale = 0.965 }},
		{"20 ms tones", func(s *toneSpec) { s.onMs, s.offMs = 20, 80 }},
		{"normal twist 12 dB", func(s *toneSpec) { s.colDB = s.rowDB - 12 }},
		{"reverse twist 8 dB", func(s *toneSpec) { s.colDB = s.rowDB + 8 }},
		{"-45 dBFS per tone", func(s *toneSpec) { s.rowDB, s.colDB = -45, -45 }},
	}
	for lead := 0; lead < hopSize; lead += 10 {
		cases = append(cases, struct {
			name string
			spec func(*toneSpec)
		}{"20 ms tones, offset " + itoa(lead), func(s *toneSpec) { s.onMs, s.offMs, s.leadSamples = 20, 80, lead }})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := defaultSpec()
			c.spec(&s)
			if got := detectAll(toPCM(synth(allKeys4, s)), 160); got != "" {
				t.Errorf("detected %d keys %q, want none", len(got), got)
			}
		})
	}
}

func TestDetectorSingleTonesAndSilence(t *testing.T) {
	// One tone of a pair is not a key, however long and loud.
	x := make([]int16, 0, 8000*len(rowHz))
	for _, f := range append(rowHz[:], colHz[:]...) {
		x = append(x, audio.Tone(f, -6, 8000, sampleRate)...)
	}
	x = append(x, make([]int16, 8000)...)
	if got := detectAll(x, 160); got != "" {
		t.Errorf("single tones detected as %q", got)
	}
}

func TestDetectorEventTiming(t *testing.T) {
	s := defaultSpec()
	s.leadSamples = 800 // 100 ms of silence first
	var d Detector
	pcm := toPCM(synth("5#", s))
	var evs []Event
	for _, f := range audio.Frames(pcm) {
		evs = append(evs, d.Process(f)...)
	}
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2: %+v", len(evs), evs)
	}
	for i, want := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond} {
		ev := evs[i]
		if ev.Source != SourceInBand {
			t.Errorf("event %d source %v", i, ev.Source)
		}
		// The run starts at the first window fully (or mostly) in the tone.
		if ev.Start < want-20*time.Millisecond || ev.Start > want+10*time.Millisecond {
			t.Errorf("event %d start %v, want ≈ %v", i, ev.Start, want)
		}
		if ev.Duration != 40*time.Millisecond {
			t.Errorf("event %d duration %v, want 40ms", i, ev.Duration)
		}
	}
}

func TestDetectorHoldsAcrossShortDropout(t *testing.T) {
	// A 10 ms drop-out inside one long press must not split it; a 40 ms
	// pause between two presses of the same key must.
	tone := toPCM(synth("7", toneSpec{onMs: 200, rowDB: -10, colDB: -10, freqScale: 1}))
	for _, c := range []struct {
		name    string
		gapMs   int
		want    string
		atPhase int
	}{
		{"10 ms dropout", 10, "7", 0},
		{"10 ms dropout mid-hop", 10, "7", 40},
		{"40 ms pause", 40, "77", 0},
		{"40 ms pause mid-hop", 40, "77", 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := make([]int16, 0, 2*len(tone)+800)
			x = append(x, make([]int16, c.atPhase)...)
			x = append(x, tone[:800]...)
			x = append(x, make([]int16, c.gapMs*8)...)
			x = append(x, tone[800:]...)
			if got := detectAll(x, 160); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestDetectorReset(t *testing.T) {
	var d Detector
	pcm := toPCM(synth("9", defaultSpec()))
	d.Process(pcm[:240]) // mid-tone, not yet accepted
	d.Reset()
	if evs := d.Process(pcm[240:]); len(evs) != 1 || evs[0].Digit != '9' {
		t.Fatalf("after Reset: %+v", evs)
	}
	if evs := d.Process(pcm); len(evs) != 1 {
		t.Fatalf("second press after Reset: %+v", evs)
	}
}

// TestDetectorMatchesSox checks the pure-Go test signal against sox's own
// synthesis once, so the generator is not fooling the detector.
func TestDetectorMatchesSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("sox missing and HOTLINE_E2E=1")
		}
		t.Skip("sox not installed")
	}
	dir := t.TempDir()
	perKey := map[rune][]int16{}
	for _, k := range allKeys4[:16] {
		fr, fc := keyFreqs(k)
		p := filepath.Join(dir, "key.raw")
		// 100 ms of the pair at vol 0.35 per tone, then 100 ms of silence.
		cmd := exec.Command(sox, "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", p,
			"synth", "0.1", "sine", ftoa(fr), "sine", ftoa(fc), "channels", "1", "vol", "0.7", "pad", "0", "0.1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sox: %v\n%s", err, out)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(b); i += 2 {
			perKey[k] = append(perKey[k], int16(uint16(b[i])|uint16(b[i+1])<<8))
		}
	}
	var pcm []int16
	for _, k := range allKeys4 {
		pcm = append(pcm, perKey[k]...)
	}
	if len(pcm) != 64*1600 {
		t.Fatalf("sox produced %d samples, want %d", len(pcm), 64*1600)
	}
	if got := detectAll(pcm, 160); got != allKeys4 {
		t.Errorf("sox signal: detected %q", got)
	}
	if got := detectAll(ulawRoundTrip(pcm), 160); got != allKeys4 {
		t.Errorf("sox signal via µ-law: detected %q", got)
	}
}

func BenchmarkDetector20msSpeechLike(b *testing.B) {
	// Noise: every window fails early (the common case on a call).
	x := make([]float64, 8000)
	addWhiteNoise(x, 0, 1)
	benchFrames(b, toPCM(x))
}

func BenchmarkDetector20msTone(b *testing.B) {
	// A held key: every window passes to the harmonic check.
	benchFrames(b, toPCM(synth("5", toneSpec{onMs: 1000, rowDB: -10, colDB: -10, freqScale: 1})))
}

func benchFrames(b *testing.B, pcm []int16) {
	b.Helper()
	frames := audio.Frames(pcm)
	var d Detector
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.Process(frames[i%len(frames)])
	}
}

func itoa(i int) string     { return strconv.Itoa(i) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
