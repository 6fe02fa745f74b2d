package audio

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestReadWAVStereo(t *testing.T) {
	left := []int16{1, -2, 3000, -32768, 32767}
	right := []int16{-5, 6, -7000, 0, 12}
	inter := make([]int16, 0, 2*len(left))
	for i := range left {
		inter = append(inter, left[i], right[i])
	}
	for _, tc := range []struct {
		name        string
		file        []byte
		left, right []int16
		rate        int
		err         error
	}{
		{"pcm16", EncodeWAV(inter, 8000, 2), left, right, 8000, nil},
		{"streaming header, partial last frame", wavSpec{tag: wavFormatPCM, channels: 2, rate: 8000, bits: 16,
			data: append(pcmBytes(inter), 0x01, 0x02), riffSize: 0xFFFFFFFF, dataSize: 0xFFFFFFFF}.bytes(),
			left, right, 8000, nil},
		{"mu-law", wavSpec{tag: wavFormatMuLaw, channels: 2, rate: 8000, bits: 8,
			data: []byte{0xFF, 0x00, 0x80, 0x7F}, riffSize: -1, dataSize: -1}.bytes(),
			[]int16{UlawToLinear(0xFF), UlawToLinear(0x80)}, []int16{UlawToLinear(0x00), UlawToLinear(0x7F)}, 8000, nil},
		{"mono", EncodeWAV(left, 8000, 1), nil, nil, 0, ErrUnsupportedWAV},
		{"not wav", []byte("RIFX0000WAVE"), nil, nil, 0, ErrNotWAV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, r, rate, err := ReadWAVStereo(onlyReader{bytes.NewReader(tc.file)})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !slices.Equal(l, tc.left) || !slices.Equal(r, tc.right) || rate != tc.rate {
				t.Errorf("got L=%v R=%v rate %d, want L=%v R=%v rate %d", l, r, rate, tc.left, tc.right, tc.rate)
			}
		})
	}
}
