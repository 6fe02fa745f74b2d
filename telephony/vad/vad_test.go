package vad

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"hotline/telephony/audio"
)

const frameMs = 20

// noise returns n samples of white Gaussian noise at rmsDBFS.
func noise(n int, rmsDBFS float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	sigma := audio.FullScale * math.Pow(10, rmsDBFS/20)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(max(-32768, min(32767, math.Round(sigma*rng.NormFloat64()))))
	}
	return out
}

// burst is a voice-like signal: a 150 Hz buzz with harmonics, RMS ≈ rmsDBFS.
func burst(n int, rmsDBFS float64) []int16 {
	out := make([]int16, n)
	amp := audio.FullScale * math.Pow(10, rmsDBFS/20) // RMS of the three partials ≈ amp
	for i := range out {
		t := float64(i) / 8000
		v := math.Sin(2*math.Pi*150*t) + 0.8*math.Sin(2*math.Pi*450*t) + 0.6*math.Sin(2*math.Pi*1100*t)
		out[i] = int16(amp * v / math.Sqrt((1+0.64+0.36)/2))
	}
	return out
}

// span is a talk spurt found by the detector, in frame indices.
type span struct{ start, end int }

// run feeds pcm frame by frame and returns the spurts (start = the
// SpeechStart frame, end = the SpeechEnd frame, -1 if still open).
func run(d *Detector, pcm []int16) []span {
	var out []span
	for i, f := range audio.Frames(pcm) {
		switch d.Process(f) {
		case SpeechStart:
			out = append(out, span{i, -1})
		case SpeechEnd:
			out[len(out)-1].end = i
		}
	}
	return out
}

func ms(frames int) time.Duration { return time.Duration(frames*frameMs) * time.Millisecond }

func TestBurstsInNoise(t *testing.T) {
	for _, c := range []struct {
		name    string
		noiseDB float64 // RMS of the background
		burstDB float64
		want    int // spurts found out of 5
	}{
		{"quiet line, normal speech", -60, -26, 5},
		{"noisy line 15 dB SNR", -40, -25, 5},
		{"noisy line 12 dB SNR", -38, -26, 5},
		{"8 dB SNR: below the 10 dB threshold", -34, -26, 0},
		{"speech below -50 dBFS on a silent line", -75, -53, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			// 1 s of noise, then 5 × (600 ms burst + 1 s gap), bursts added to the noise.
			const lead, on, off = 8000, 4800, 8000
			pcm := noise(lead+5*(on+off), c.noiseDB, 42)
			for k := range 5 {
				audio.Mix(pcm[lead+k*(on+off):], burst(on, c.burstDB))
			}
			got := run(New(Config{}), pcm)
			if len(got) != c.want {
				t.Fatalf("found %d spurts %v, want %d", len(got), got, c.want)
			}
			for k, s := range got {
				startFrame := (lead + k*(on+off)) / 160
				endFrame := (lead + k*(on+off) + on) / 160
				// Onset after 2 frames; end after 300 ms of hangover.
				if s.start < startFrame || s.start > startFrame+2 {
					t.Errorf("spurt %d starts at %v, burst at %v", k, ms(s.start), ms(startFrame))
				}
				if s.end < endFrame+14 || s.end > endFrame+16 {
					t.Errorf("spurt %d ends at %v, burst ended at %v (+300 ms hangover)", k, ms(s.end), ms(endFrame))
				}
			}
		})
	}
}

func TestNoiseAloneIsSilence(t *testing.T) {
	for _, db := range []float64{-70, -55, -45, -35, -25} {
		if got := run(New(Config{}), noise(8000*10, db, 7)); len(got) != 0 {
			t.Errorf("%v dBFS noise: spurts %v", db, got)
		}
	}
}

func TestFloorRisesSlowly(t *testing.T) {
	// The noise steps up 20 dB: that is "speech" until the floor has
	// climbed to within 10 dB, i.e. after about 10 s at 1 dB/s, then never again.
	pcm := append(noise(8000*3, -65, 1), noise(8000*20, -45, 2)...)
	d := New(Config{})
	got := run(d, pcm)
	if len(got) != 1 {
		t.Fatalf("spurts %v, want one", got)
	}
	step := 3 * 50
	if got[0].start > step+2 || got[0].end < step+8*50 || got[0].end > step+13*50 {
		t.Errorf("spurt %v..%v, want from %v until about %v", ms(got[0].start), ms(got[0].end), ms(step), ms(step+10*50))
	}
	if f := d.Floor(); f < -47 || f > -44 {
		t.Errorf("floor %.1f dBFS after 20 s of -45 dBFS noise", f)
	}
}

func TestDigitalSilenceKeepsFloor(t *testing.T) {
	// Zero-filled frames (lost packets) between stretches of line noise must
	// not reset the floor; otherwise the noise would become "speech".
	var pcm []int16
	for range 5 {
		pcm = append(pcm, noise(8000, -42, 3)...)
		pcm = append(pcm, make([]int16, 1600)...)
	}
	d := New(Config{})
	if got := run(d, pcm); len(got) != 0 {
		t.Fatalf("spurts %v", got)
	}
	if d.Floor() < -46 {
		t.Errorf("floor fell to %.1f dBFS", d.Floor())
	}
}

func TestOnsetAndHangover(t *testing.T) {
	d := New(Config{OnsetFrames: 3, Hangover: 100 * time.Millisecond})
	quiet, loud := noise(160, -70, 5), burst(160, -20)
	var states []State
	feed := func(f []int16, n int) {
		for range n {
			states = append(states, d.Process(f))
		}
	}
	feed(quiet, 10)
	feed(loud, 2) // too short for onset 3
	feed(quiet, 3)
	feed(loud, 4) // onset on the 3rd
	feed(quiet, 4)
	feed(loud, 1) // inside hangover: continues
	feed(quiet, 6)
	want := []State{
		Silence, Silence, Silence, Silence, Silence, Silence, Silence, Silence, Silence, Silence,
		Silence, Silence, Silence, Silence, Silence,
		Silence, Silence, SpeechStart, Speech,
		Speech, Speech, Speech, Speech,
		Speech,
		Speech, Speech, Speech, Speech, SpeechEnd, Silence,
	}
	if len(states) != len(want) {
		t.Fatalf("%d states", len(states))
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("frame %d: %v, want %v\ngot  %v\nwant %v", i, states[i], want[i], states, want)
		}
	}
}

func TestFrameSizeIndependence(t *testing.T) {
	// 10 ms frames: the hangover is still 300 ms of audio.
	pcm := append(append(noise(8000, -60, 1), burst(4000, -20)...), noise(8000, -60, 2)...)
	d := New(Config{})
	var start, end int = -1, -1
	for i := 0; i+80 <= len(pcm); i += 80 {
		switch d.Process(pcm[i : i+80]) {
		case SpeechStart:
			start = i
		case SpeechEnd:
			end = i
		}
	}
	if start < 8000 || start > 8000+160 || end < 12000+2400-80 || end > 12000+2400+80 {
		t.Errorf("10 ms frames: start %d end %d (samples)", start, end)
	}
	if d.Process(nil) != Silence {
		t.Error("empty frame changed state")
	}
}

func TestResetAndAccessors(t *testing.T) {
	d := New(Config{})
	if d.Floor() != audio.SilenceDBFS {
		t.Errorf("initial floor %v", d.Floor())
	}
	d.Process(noise(160, -40, 1))
	if l := d.Level(); l < -42 || l > -38 {
		t.Errorf("level %.1f, want ≈ -40", l)
	}
	d.Process(burst(160, -20))
	if !d.Voiced() {
		t.Error("burst not voiced")
	}
	d.Reset()
	if d.Floor() != audio.SilenceDBFS || d.Voiced() || d.Config() != DefaultConfig() {
		t.Error("Reset kept state")
	}
	for s, want := range map[State]string{Silence: "silence", SpeechStart: "speech-start", Speech: "speech", SpeechEnd: "speech-end", 9: "state(?)"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}

func BenchmarkProcess20ms(b *testing.B) {
	pcm := append(noise(8000, -50, 1), burst(8000, -20)...)
	frames := audio.Frames(pcm)
	d := New(Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Process(frames[i%len(frames)])
	}
}
