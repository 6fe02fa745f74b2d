package audio

import (
	"fmt"
	"io"
)

// ReadWAVStereo decodes a two-channel WAV file (such as a call recording:
// caller left, bot right) to its left and right channels and its sample
// rate. It accepts the encodings and streaming headers ReadWAVStream
// does; a file that is not two-channel is ErrUnsupportedWAV. A truncated
// last frame is dropped.
func ReadWAVStereo(r io.Reader) (left, right []int16, rate int, err error) {
	f, size, err := readHeader(r)
	if err != nil {
		return nil, nil, 0, err
	}
	if f.channels != 2 {
		return nil, nil, 0, fmt.Errorf("%w: %d channels, want 2", ErrUnsupportedWAV, f.channels)
	}
	pcm, err := readData(r, f, size, decodeInterleaved)
	if err != nil {
		return nil, nil, 0, err
	}
	n := len(pcm) / 2
	left, right = make([]int16, n), make([]int16, n)
	for i := range n {
		left[i], right[i] = pcm[2*i], pcm[2*i+1]
	}
	return left, right, f.rate, nil
}
