package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os/exec"
	"testing"
)

// refUlawCompress etc. transliterate the loops of the ITU-T G.191 STL
// reference (g711.c: ulaw_compress, ulaw_expand, alaw_compress,
// alaw_expand) as literally as Go allows, so the table code, written
// differently (bits.Len instead of loops), is checked against them.
func refUlawCompress(lin int16) byte {
	var absno int
	if lin < 0 {
		absno = int(^lin)>>2 + 33
	} else {
		absno = int(lin)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := 1
	for i != 0 {
		segno++
		i >>= 1
	}
	high := 0x0008 - segno
	low := (absno >> segno) & 0x000F
	low = 0x000F - low
	out := high<<4 | low
	if lin >= 0 {
		out |= 0x0080
	}
	return byte(out)
}

func refUlawExpand(log byte) int16 {
	sign := 1
	if log < 0x80 {
		sign = -1
	}
	mantissa := int(^log)
	exponent := (mantissa >> 4) & 0x0007
	segment := exponent + 1
	mantissa &= 0x000F
	step := 4 << segment
	return int16(sign * ((0x0080 << exponent) + step*mantissa + step/2 - 4*33))
}

func refAlawCompress(lin int16) byte {
	var ix int
	if lin < 0 {
		ix = int(^lin) >> 4
	} else {
		ix = int(lin) >> 4
	}
	if ix > 15 {
		iexp := 1
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if lin >= 0 {
		ix |= 0x0080
	}
	return byte(ix ^ 0x0055)
}

func refAlawExpand(log byte) int16 {
	ix := int(log) ^ 0x0055
	ix &= 0x007F
	iexp := ix >> 4
	mant := ix & 0x000F
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 0x0008
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if log > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

func TestG711MatchesReferenceAllInputs(t *testing.T) {
	for i := range 1 << 16 {
		s := int16(uint16(i))
		if got, want := LinearToUlaw(s), refUlawCompress(s); got != want {
			t.Fatalf("LinearToUlaw(%d) = %#02x, reference %#02x", s, got, want)
		}
		if got, want := LinearToAlaw(s), refAlawCompress(s); got != want {
			t.Fatalf("LinearToAlaw(%d) = %#02x, reference %#02x", s, got, want)
		}
	}
	for i := range 256 {
		b := byte(i)
		if got, want := UlawToLinear(b), refUlawExpand(b); got != want {
			t.Fatalf("UlawToLinear(%#02x) = %d, reference %d", b, got, want)
		}
		if got, want := AlawToLinear(b), refAlawExpand(b); got != want {
			t.Fatalf("AlawToLinear(%#02x) = %d, reference %d", b, got, want)
		}
	}
}

func TestG711KnownVectors(t *testing.T) {
	enc := []struct {
		in         int16
		ulaw, alaw byte
	}{
		{0, 0xFF, 0xD5},
		{-1, 0x7F, 0x55},
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
		{1000, 0xCE, 0xFA},
		{-1000, 0x4E, 0x7A},
	}
	for _, c := range enc {
		if got := LinearToUlaw(c.in); got != c.ulaw {
			t.Errorf("LinearToUlaw(%d) = %#02x, want %#02x", c.in, got, c.ulaw)
		}
		if got := LinearToAlaw(c.in); got != c.alaw {
			t.Errorf("LinearToAlaw(%d) = %#02x, want %#02x", c.in, got, c.alaw)
		}
	}
	dec := []struct {
		code       byte
		ulaw, alaw int16
	}{
		{0xFF, 0, 848},
		{0x7F, 0, -848},
		{0x80, 32124, 5504},
		{0x00, -32124, -5504},
		{0xD5, 716, 8}, // A-law "zero" decodes to ±8 (half a step)
		{0x55, -716, -8},
		{0xAA, 5372, 32256},
		{0x2A, -5372, -32256},
	}
	for _, c := range dec {
		if got := UlawToLinear(c.code); got != c.ulaw {
			t.Errorf("UlawToLinear(%#02x) = %d, want %d", c.code, got, c.ulaw)
		}
		if got := AlawToLinear(c.code); got != c.alaw {
			t.Errorf("AlawToLinear(%#02x) = %d, want %d", c.code, got, c.alaw)
		}
	}
}

// TestG711Idempotent: decoding and re-encoding any code gives the code
// back (except µ-law's negative zero 0x7F, which decodes to 0 = 0xFF).
func TestG711Idempotent(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if got := LinearToAlaw(AlawToLinear(b)); got != b {
			t.Errorf("A-law %#02x → %d → %#02x", b, AlawToLinear(b), got)
		}
		if b == 0x7F {
			continue
		}
		if got := LinearToUlaw(UlawToLinear(b)); got != b {
			t.Errorf("µ-law %#02x → %d → %#02x", b, UlawToLinear(b), got)
		}
	}
}

func snrDB(ref, got []int16) float64 {
	var sig, noise float64
	for i := range ref {
		d := float64(ref[i]) - float64(got[i])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

func TestG711SineSNR(t *testing.T) {
	for _, db := range []float64{-1, -10, -20} {
		in := Tone(1013, db, Rate, Rate)
		u := DecodeUlaw(nil, EncodeUlaw(nil, in))
		a := DecodeAlaw(nil, EncodeAlaw(nil, in))
		if s := snrDB(in, u); s < 35 {
			t.Errorf("µ-law round trip SNR at %v dBFS = %.2f dB, want ≥ 35", db, s)
		}
		if s := snrDB(in, a); s < 35 {
			t.Errorf("A-law round trip SNR at %v dBFS = %.2f dB, want ≥ 35", db, s)
		}
	}
}

func TestG711AppendsAndDoesNotAllocate(t *testing.T) {
	pcm := Tone(440, -6, FrameSamples, Rate)
	prefix := []byte{1, 2, 3}
	got := EncodeUlaw(append([]byte(nil), prefix...), pcm)
	if len(got) != 3+FrameSamples || !bytes.Equal(got[:3], prefix) {
		t.Fatalf("EncodeUlaw did not append: len %d, head %v", len(got), got[:3])
	}
	dec := DecodeUlaw([]int16{7}, got[3:])
	if len(dec) != 1+FrameSamples || dec[0] != 7 {
		t.Fatalf("DecodeUlaw did not append: len %d, head %d", len(dec), dec[0])
	}
	enc := make([]byte, 0, FrameSamples)
	pcmOut := make([]int16, 0, FrameSamples)
	allocs := testing.AllocsPerRun(100, func() {
		enc = EncodeUlaw(enc[:0], pcm)
		pcmOut = DecodeUlaw(pcmOut[:0], enc)
		enc = EncodeAlaw(enc[:0], pcm)
		pcmOut = DecodeAlaw(pcmOut[:0], enc)
	})
	if allocs != 0 {
		t.Errorf("codec with capacity allocates %.1f times per run, want 0", allocs)
	}
}

// TestG711DecodeMatchesSox decodes every code with sox (whose decode
// tables are the classic Sun/CCITT ones) and compares. Skips without sox.
func TestG711DecodeMatchesSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	for _, c := range []struct {
		enc    string
		decode func(byte) int16
	}{{"mu-law", UlawToLinear}, {"a-law", AlawToLinear}} {
		cmd := exec.Command(sox, "-D", "-t", "raw", "-r", "8000", "-c", "1", "-e", c.enc, "-b", "8", "-",
			"-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-")
		cmd.Stdin = bytes.NewReader(codes)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sox %s: %v", c.enc, err)
		}
		if len(out) != 512 {
			t.Fatalf("sox %s: %d bytes out, want 512", c.enc, len(out))
		}
		for i := range 256 {
			want := int16(binary.LittleEndian.Uint16(out[2*i:]))
			if got := c.decode(byte(i)); got != want {
				t.Errorf("%s decode %#02x = %d, sox %d", c.enc, i, got, want)
			}
		}
	}
}

func BenchmarkEncodeUlaw160(b *testing.B) {
	pcm := Tone(440, -6, FrameSamples, Rate)
	dst := make([]byte, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = EncodeUlaw(dst[:0], pcm)
	}
}

func BenchmarkDecodeUlaw160(b *testing.B) {
	enc := EncodeUlaw(nil, Tone(440, -6, FrameSamples, Rate))
	dst := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = DecodeUlaw(dst[:0], enc)
	}
}

func BenchmarkEncodeAlaw160(b *testing.B) {
	pcm := Tone(440, -6, FrameSamples, Rate)
	dst := make([]byte, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = EncodeAlaw(dst[:0], pcm)
	}
}

func BenchmarkDecodeAlaw160(b *testing.B) {
	enc := EncodeAlaw(nil, Tone(440, -6, FrameSamples, Rate))
	dst := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = DecodeAlaw(dst[:0], enc)
	}
}
