package audio

import "math/bits"

// G.711 companding (ITU-T G.711, with the rounding of the ITU-T G.191
// reference implementation). Encoding goes through a 64 KiB table indexed
// by the 16-bit sample and decoding through a 256-entry table, because a
// table lookup per sample is several times faster than the bit-twiddling
// and RTP sends 50 packets per second per call in each direction.
//
// The tables are filled once at package initialisation from the formulas
// below and never written afterwards, so they are constant tables in all
// but syntax.
var (
	ulawEncTable [1 << 16]byte
	alawEncTable [1 << 16]byte
	ulawDecTable [256]int16
	alawDecTable [256]int16
)

func init() {
	for i := range 1 << 16 {
		s := int16(uint16(i))
		ulawEncTable[i] = ulawCompress(s)
		alawEncTable[i] = alawCompress(s)
	}
	for i := range 256 {
		ulawDecTable[i] = ulawExpand(byte(i))
		alawDecTable[i] = alawExpand(byte(i))
	}
}

// ulawCompress encodes one 16-bit sample as µ-law. Only the 14 most
// significant bits are used (G.711 µ-law is a 14-bit law). Negative
// samples use the one's complement so the law is symmetric around −½.
func ulawCompress(s int16) byte {
	var mag int32
	if s < 0 {
		mag = int32(^s)>>2 + 33 // 33 = bias 0x84 at 14-bit scale
	} else {
		mag = int32(s)>>2 + 33
	}
	if mag > 0x1FFF {
		mag = 0x1FFF
	}
	// Segment = position of the leading one above bit 5.
	seg := bits.Len32(uint32(mag)>>6) + 1 // 1..8
	code := byte((8-seg)<<4) | byte(0xF-(mag>>uint(seg))&0xF)
	if s >= 0 {
		code |= 0x80
	}
	return code
}

// ulawExpand decodes one µ-law byte to a 16-bit sample (±32124 at most).
func ulawExpand(b byte) int16 {
	m := ^b
	exp := int32(m>>4) & 7
	mant := int32(m & 0xF)
	step := int32(4) << (exp + 1)
	v := int32(0x80)<<exp + step*mant + step/2 - 4*33
	if b < 0x80 {
		v = -v
	}
	return int16(v)
}

// alawCompress encodes one 16-bit sample as A-law. Only the 12 most
// significant bits are used (G.711 A-law is a 13-bit sign-magnitude law).
func alawCompress(s int16) byte {
	var ix int32
	if s < 0 {
		ix = int32(^s) >> 4
	} else {
		ix = int32(s) >> 4
	}
	if ix > 15 {
		// exponent = number of bits above the 4-bit mantissa, plus one.
		exp := int32(bits.Len32(uint32(ix))) - 4 // ix in 16..2047 → 1..7
		ix = (ix>>uint(exp-1))&0xF | exp<<4
	}
	if s >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55 // even bits are inverted on the line
}

// alawExpand decodes one A-law byte to a 16-bit sample (±32256 at most).
func alawExpand(b byte) int16 {
	ix := int32(b^0x55) & 0x7F
	exp := ix >> 4
	mant := ix & 0xF
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= uint(exp - 1)
	}
	if b < 0x80 {
		mant = -mant
	}
	return int16(mant)
}

// LinearToUlaw encodes one 16-bit linear sample as a G.711 µ-law byte.
func LinearToUlaw(s int16) byte { return ulawEncTable[uint16(s)] }

// UlawToLinear decodes one G.711 µ-law byte to a 16-bit linear sample.
func UlawToLinear(b byte) int16 { return ulawDecTable[b] }

// LinearToAlaw encodes one 16-bit linear sample as a G.711 A-law byte.
func LinearToAlaw(s int16) byte { return alawEncTable[uint16(s)] }

// AlawToLinear decodes one G.711 A-law byte to a 16-bit linear sample.
func AlawToLinear(b byte) int16 { return alawDecTable[b] }

// EncodeUlaw appends the µ-law encoding of pcm to dst and returns the
// extended slice. It does not allocate when cap(dst) has room.
func EncodeUlaw(dst []byte, pcm []int16) []byte {
	return encodeWith(&ulawEncTable, dst, pcm)
}

// EncodeAlaw appends the A-law encoding of pcm to dst and returns the
// extended slice. It does not allocate when cap(dst) has room.
func EncodeAlaw(dst []byte, pcm []int16) []byte {
	return encodeWith(&alawEncTable, dst, pcm)
}

// DecodeUlaw appends the linear samples of the µ-law bytes to dst and
// returns the extended slice. It does not allocate when cap(dst) has room.
func DecodeUlaw(dst []int16, ulaw []byte) []int16 {
	return decodeWith(&ulawDecTable, dst, ulaw)
}

// DecodeAlaw appends the linear samples of the A-law bytes to dst and
// returns the extended slice. It does not allocate when cap(dst) has room.
func DecodeAlaw(dst []int16, alaw []byte) []int16 {
	return decodeWith(&alawDecTable, dst, alaw)
}

func encodeWith(table *[1 << 16]byte, dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = growBytes(dst, len(pcm))
	out := dst[n : n+len(pcm)]
	for i, s := range pcm {
		out[i] = table[uint16(s)]
	}
	return dst
}

func decodeWith(table *[256]int16, dst []int16, enc []byte) []int16 {
	n := len(dst)
	dst = growSamples(dst, len(enc))
	out := dst[n : n+len(enc)]
	for i, b := range enc {
		out[i] = table[b]
	}
	return dst
}

// growBytes extends b by n elements, reallocating only when needed.
func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// growSamples extends s by n elements, reallocating only when needed.
func growSamples(s []int16, n int) []int16 {
	if cap(s)-len(s) < n {
		ns := make([]int16, len(s), len(s)+n+len(s)/4)
		copy(ns, s)
		s = ns
	}
	return s[:len(s)+n]
}
