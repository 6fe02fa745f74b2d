package audio

import (
	"errors"
	"fmt"
	"math"
)

// ErrRate is returned for sample rates the resampler cannot handle
// (non-positive, or a reduced ratio needing an absurd filter bank).
var ErrRate = errors.New("audio: unsupported sample rate")

// Filter design, measured in reference/speech.md §4: for 22050→8000 a
// Kaiser window with β = 7 and 96 taps per phase with the cut-off at
// 3950 Hz is flat to 3.4 kHz and rejects aliases by > 75 dB; 32 taps with
// a 3.7 kHz cut-off gave only −38 dB. The cut-off scales with the lower
// rate (3950/8000) and the taps per phase with inRate/minRate so that the
// transition band stays about 1/8 of the lower rate for every ratio.
const (
	kaiserBeta     = 7.0
	cutoffFraction = 3950.0 / 8000 // of min(inRate, outRate)
	tapsPerRatio   = 34.5          // taps per phase = ⌈34.5·inRate/minRate⌉
	minTaps        = 16
	maxFilterBank  = 1 << 21 // coefficients; bounds memory for odd ratios
)

// Resampler converts a stream of 16-bit mono samples from one rate to
// another with a polyphase windowed-sinc (Kaiser) filter: upsample by L,
// low-pass below the lower Nyquist frequency, downsample by M, where L/M
// is outRate/inRate in lowest terms. Feeding the input in chunks gives
// exactly the same output as feeding it at once. Output sample k is
// aligned with input time k/outRate (the filter delay is compensated).
//
// A Resampler is not safe for concurrent use; make one per stream.
type Resampler struct {
	inRate, outRate int
	l, m            int         // up, down factors
	taps            int         // taps per phase (K)
	bank            [][]float64 // bank[p] = phase p, reversed for a forward dot product
	copyOnly        bool        // inRate == outRate

	hist     []float64 // inputs [histBase, histBase+len(hist)), zeros before 0
	histBase int64
	nextIn   int64 // index of the newest input the next output needs
	phase    int   // filter phase of the next output
	inCount  int64 // inputs consumed so far
	outCount int64 // outputs produced so far
}

// NewResampler returns a streaming resampler from inRate to outRate Hz.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 {
		return nil, fmt.Errorf("%w: %d Hz → %d Hz", ErrRate, inRate, outRate)
	}
	g := gcd(inRate, outRate)
	r := &Resampler{inRate: inRate, outRate: outRate, l: outRate / g, m: inRate / g}
	if inRate == outRate {
		r.copyOnly = true
		return r, nil
	}
	minRate := min(inRate, outRate)
	k := int(math.Ceil(tapsPerRatio * float64(inRate) / float64(minRate)))
	k = max(minTaps, (k+3)&^3)
	if int64(k)*int64(r.l) > maxFilterBank {
		return nil, fmt.Errorf("%w: %d Hz → %d Hz needs %d×%d filter taps", ErrRate, inRate, outRate, r.l, k)
	}
	r.taps = k
	r.bank = designBank(r.l, k, cutoffFraction*float64(minRate)/(float64(inRate)*float64(r.l)))
	r.Reset()
	return r, nil
}

// designBank builds the L polyphase branches of a K·L-tap Kaiser-windowed
// sinc low-pass with cut-off fc (in cycles per upsampled sample), centred
// on tap K·L/2, scaled by L so the passband gain after upsampling is 1.
func designBank(l, k int, fc float64) [][]float64 {
	n := k * l
	centre := float64(n / 2)
	half := float64(n) / 2
	i0b := besselI0(kaiserBeta)
	flat := make([]float64, n)
	bank := make([][]float64, l)
	for p := range l {
		bank[p] = flat[p*k : (p+1)*k : (p+1)*k]
	}
	for i := range n {
		x := float64(i) - centre
		h := 2 * fc * float64(l)
		if x != 0 {
			h = math.Sin(2*math.Pi*fc*x) / (math.Pi * x) * float64(l)
		}
		w := x / half // −1 … +1 over the filter
		win := 0.0
		if w >= -1 && w <= 1 {
			win = besselI0(kaiserBeta*math.Sqrt(1-w*w)) / i0b
		}
		// Tap i belongs to phase i mod L; within the phase, tap j = i/L
		// multiplies input (newest − j), stored reversed at k−1−j.
		bank[i%l][k-1-i/l] = h * win
	}
	return bank
}

// besselI0 is the zeroth-order modified Bessel function of the first kind
// (power series; converges fast for the β used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for j := 1; j < 200; j++ {
		term *= q / float64(j*j)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Ratio returns the reduced up/down factors L and M (outRate/inRate = L/M).
func (r *Resampler) Ratio() (up, down int) { return r.l, r.m }

// Reset discards all history so the Resampler can start a new stream.
func (r *Resampler) Reset() {
	r.inCount, r.outCount = 0, 0
	if r.copyOnly {
		return
	}
	// Output 0 sits at upsampled time centre = K·L/2.
	c := int64(r.taps * r.l / 2)
	r.nextIn = c / int64(r.l)
	r.phase = int(c % int64(r.l))
	r.histBase = -int64(r.taps - 1)
	r.hist = r.hist[:0]
	for range r.taps - 1 {
		r.hist = append(r.hist, 0)
	}
}

// Process feeds src and appends every output sample that is now
// computable to dst, returning the extended slice. Samples whose filter
// window reaches past the input seen so far are held back until more
// input arrives or Flush is called.
func (r *Resampler) Process(dst, src []int16) []int16 {
	r.inCount += int64(len(src))
	if r.copyOnly {
		r.outCount += int64(len(src))
		return append(dst, src...)
	}
	for _, s := range src {
		r.hist = append(r.hist, float64(s))
	}
	return r.drain(dst, math.MaxInt64)
}

// Flush appends the remaining output (the input is padded with silence
// to let the filter ring out) so the total output is ⌈in·L/M⌉ samples,
// then resets the Resampler for a new stream.
func (r *Resampler) Flush(dst []int16) []int16 {
	if !r.copyOnly {
		total := (r.inCount*int64(r.l) + int64(r.m) - 1) / int64(r.m)
		if r.outCount < total {
			// Newest input index the last output needs.
			last := (int64(r.taps*r.l/2) + (total-1)*int64(r.m)) / int64(r.l)
			for r.histBase+int64(len(r.hist)) <= last {
				r.hist = append(r.hist, 0)
			}
			dst = r.drain(dst, total)
		}
	}
	r.Reset()
	return dst
}

// drain computes outputs while their input window is available and fewer
// than limit outputs have been produced in total, then drops history no
// longer needed.
func (r *Resampler) drain(dst []int16, limit int64) []int16 {
	end := r.histBase + int64(len(r.hist)) // one past the newest input
	k := r.taps
	for r.nextIn < end && r.outCount < limit {
		start := int(r.nextIn - r.histBase - int64(k-1))
		dst = append(dst, saturate(dot(r.bank[r.phase], r.hist[start:start+k])))
		r.outCount++
		r.phase += r.m
		r.nextIn += int64(r.phase / r.l)
		r.phase %= r.l
	}
	// Keep inputs from the oldest one the next output needs.
	keepFrom := r.nextIn - int64(k-1)
	if drop := keepFrom - r.histBase; drop > 0 {
		if drop > int64(len(r.hist)) {
			drop = int64(len(r.hist))
		}
		n := copy(r.hist, r.hist[drop:])
		r.hist = r.hist[:n]
		r.histBase += drop
	}
	return dst
}

// dot is the filter inner loop, unrolled by four (K is a multiple of 4).
func dot(h, x []float64) float64 {
	x = x[:len(h)]
	var s0, s1, s2, s3 float64
	for i := 0; i+3 < len(h); i += 4 {
		s0 += h[i] * x[i]
		s1 += h[i+1] * x[i+1]
		s2 += h[i+2] * x[i+2]
		s3 += h[i+3] * x[i+3]
	}
	return (s0 + s1) + (s2 + s3)
}

// Resample converts a whole buffer from inRate to outRate and returns
// ⌈len(pcm)·outRate/inRate⌉ samples, time-aligned with the input.
func Resample(pcm []int16, inRate, outRate int) ([]int16, error) {
	r, err := NewResampler(inRate, outRate)
	if err != nil {
		return nil, err
	}
	l, m := r.Ratio()
	out := make([]int16, 0, (int64(len(pcm))*int64(l)+int64(m)-1)/int64(m))
	out = r.Process(out, pcm)
	return r.Flush(out), nil
}
