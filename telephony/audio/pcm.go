package audio

import "math"

// FullScale is the reference level for dBFS: the magnitude of the most
// negative 16-bit sample.
const FullScale = 32768

// SilenceDBFS is what DBFS reports for digital silence, instead of −∞, so
// that levels can be subtracted and compared without NaNs.
const SilenceDBFS = -120.0

// saturate rounds v to the nearest integer and clamps it to int16.
func saturate(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

// clamp16 clamps an integer sum to int16.
func clamp16(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

// Gain scales pcm in place by db decibels (negative attenuates),
// saturating at the int16 limits instead of wrapping.
func Gain(pcm []int16, db float64) {
	g := math.Pow(10, db/20)
	for i, s := range pcm {
		pcm[i] = saturate(float64(s) * g)
	}
}

// Peak returns the largest absolute sample value; −32768 counts as 32767
// so the result always fits.
func Peak(pcm []int16) int16 {
	var p int32
	for _, s := range pcm {
		v := int32(s)
		if v < 0 {
			v = -v
		}
		if v > p {
			p = v
		}
	}
	return clamp16(p)
}

// RMS returns the root mean square of pcm in sample units (0 for empty).
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// DBFS converts a level in sample units (an RMS or a peak) to decibels
// relative to FullScale: DBFS(RMS(x)) of a full-scale square wave is 0,
// of a full-scale sine −3.01. Levels at or below zero give SilenceDBFS.
func DBFS(level float64) float64 {
	if level <= 0 {
		return SilenceDBFS
	}
	return max(20*math.Log10(level/FullScale), SilenceDBFS)
}

// Mix adds src into dst sample by sample, saturating; it stops at the
// shorter of the two.
func Mix(dst, src []int16) {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = clamp16(int32(dst[i]) + int32(src[i]))
	}
}

// Silence returns n zero samples.
func Silence(n int) []int16 {
	return make([]int16, max(n, 0))
}

// Tone returns samples of a sine wave at freq Hz sampled at rate, whose
// PEAK level is dbfs (like sox's `sine … vol`): 0 dBFS is amplitude 32767,
// −6 dBFS about 16422. The phase starts at 0.
func Tone(freq, dbfs float64, samples, rate int) []int16 {
	out := make([]int16, max(samples, 0))
	if rate <= 0 {
		return out
	}
	amp := math.MaxInt16 * math.Pow(10, dbfs/20)
	w := 2 * math.Pi * freq / float64(rate)
	for i := range out {
		out[i] = saturate(amp * math.Sin(w*float64(i)))
	}
	return out
}

// Frames splits pcm into FrameSamples-long (20 ms at Rate) frames. Full
// frames share pcm's backing array; a short last frame is copied and
// padded with zeros. Empty input gives no frames.
func Frames(pcm []int16) [][]int16 {
	n := (len(pcm) + FrameSamples - 1) / FrameSamples
	out := make([][]int16, 0, n)
	for len(pcm) >= FrameSamples {
		out = append(out, pcm[:FrameSamples:FrameSamples])
		pcm = pcm[FrameSamples:]
	}
	if len(pcm) > 0 {
		last := make([]int16, FrameSamples)
		copy(last, pcm)
		out = append(out, last)
	}
	return out
}

// FrameReader hands out consecutive 20 ms frames of a sample buffer, the
// last one padded with zeros. It is what a playout loop pulls from once
// per RTP tick. The zero value reads nothing; it is not safe for
// concurrent use.
type FrameReader struct {
	pcm []int16
	pos int
}

// NewFrameReader returns a FrameReader over pcm (not copied).
func NewFrameReader(pcm []int16) *FrameReader {
	return &FrameReader{pcm: pcm}
}

// Next returns the next frame and true, or a zero Frame and false once
// the samples are exhausted.
func (r *FrameReader) Next() (Frame, bool) {
	var f Frame
	ok := r.ReadFrame(&f)
	return f, ok
}

// ReadFrame fills f with the next frame (zero-padded at the end) and
// reports whether there was one. It does not allocate.
func (r *FrameReader) ReadFrame(f *Frame) bool {
	if r.pos >= len(r.pcm) {
		return false
	}
	n := copy(f[:], r.pcm[r.pos:])
	clear(f[n:])
	r.pos += n
	return true
}

// Remaining returns how many frames Next will still return.
func (r *FrameReader) Remaining() int {
	return (len(r.pcm) - r.pos + FrameSamples - 1) / FrameSamples
}

// Reset rewinds the reader to the first frame.
func (r *FrameReader) Reset() { r.pos = 0 }
