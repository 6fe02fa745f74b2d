package dtmf

import (
	"math"
	"math/rand/v2"
	"strings"
)

// Test signal generation in pure Go, so the detector tests need no tools.

// allKeys4 is the acceptance sequence: all 16 keys, four times (64 presses).
var allKeys4 = strings.Repeat("123A456B789C*0#D", 4)

var rowHz = [4]float64{697, 770, 852, 941}
var colHz = [4]float64{1209, 1336, 1477, 1633}

// keyFreqs returns the row and column frequency of a key.
func keyFreqs(k rune) (row, col float64) {
	i := strings.IndexRune(keypad, k)
	if i < 0 {
		panic("not a key: " + string(k))
	}
	return rowHz[i/4], colHz[i%4]
}

// toneSpec describes a key sequence. Levels are per tone, in dBFS of the
// sine's peak (0 dBFS = amplitude 32767).
type toneSpec struct {
	onMs, offMs  int
	rowDB, colDB float64
	freqScale    float64 // 1 = exact; 1.035 = +3.5 %
	leadSamples  int     // silence before the first tone (phase offset vs the hop grid)
}

func defaultSpec() toneSpec {
	// −10 dBFS per tone: like sox "vol 0.35", peak 0.63 FS for the pair.
	return toneSpec{onMs: 100, offMs: 100, rowDB: -10, colDB: -10, freqScale: 1}
}

func dbToAmp(db float64) float64 { return 32767 * math.Pow(10, db/20) }

// synth renders keys per spec as 8 kHz PCM (floating point, for mixing).
func synth(keys string, s toneSpec) []float64 {
	on, off := s.onMs*sampleRate/1000, s.offMs*sampleRate/1000
	out := make([]float64, s.leadSamples, s.leadSamples+len(keys)*(on+off))
	ar, ac := dbToAmp(s.rowDB), dbToAmp(s.colDB)
	for ki, k := range keys {
		fr, fc := keyFreqs(k)
		fr, fc = fr*s.freqScale, fc*s.freqScale
		ph := float64(ki) * 0.7 // vary the start phase between presses
		for n := range on {
			t := float64(n) / sampleRate
			out = append(out, ar*math.Sin(2*math.Pi*fr*t+ph)+ac*math.Sin(2*math.Pi*fc*t+2*ph))
		}
		out = append(out, make([]float64, off)...)
	}
	return out
}

// addWhiteNoise adds Gaussian noise at snrDB relative to the signal's mean
// power over the tone-on samples (the usual definition for DTMF SNR).
func addWhiteNoise(x []float64, snrDB float64, seed uint64) {
	var p float64
	var n int
	for _, v := range x {
		if v != 0 {
			p += v * v
			n++
		}
	}
	sigma := math.Sqrt(p / float64(n) / math.Pow(10, snrDB/10))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range x {
		x[i] += sigma * rng.NormFloat64()
	}
}

func toPCM(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// detectAll feeds pcm in chunks of chunk samples and returns the digits.
func detectAll(pcm []int16, chunk int) string {
	var d Detector
	var b strings.Builder
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		for _, ev := range d.Process(pcm[:n]) {
			b.WriteRune(ev.Digit)
		}
		pcm = pcm[n:]
	}
	return b.String()
}
