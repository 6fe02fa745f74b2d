package audio

// WAV (RIFF/WAVE) reading and writing, written here rather than taken
// from github.com/go-audio/wav: the subset we need is ~150 lines, it must
// read from pipes without Seek (espeak-ng --stdout), decode G.711 WAVs
// straight to int16 and never allocate by a declared chunk size (a
// corrupt or hostile header must not make us allocate gigabytes), and it
// saves three modules in go.mod.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Errors returned by ReadWAV and ReadWAVStream; branch with errors.Is.
var (
	ErrNotWAV         = errors.New("audio: not a RIFF/WAVE file")
	ErrUnsupportedWAV = errors.New("audio: unsupported WAV encoding")
	ErrTruncatedWAV   = errors.New("audio: truncated WAV file")
)

// WAVE format tags (RFC 2361).
const (
	wavFormatPCM        = 1
	wavFormatALaw       = 6
	wavFormatMuLaw      = 7
	wavFormatExtensible = 0xFFFE
)

const (
	// placeholderSize: chunk sizes from here up are "unknown, read to
	// EOF"; espeak-ng --stdout writes RIFF 0x7FFFF024 and data 0x7FFFF000,
	// other streaming writers 0xFFFFFFFF.
	placeholderSize = 0x7FFFF000
	maxFmtSize      = 1 << 16
	maxWAVChannels  = 16
	maxWAVRate      = 1 << 20
	readBlock       = 32 << 10
)

type wavFormat struct {
	tag, channels, bits int
	rate                int
}

// ReadWAV decodes a WAV file to mono 16-bit samples and its sample rate.
// It accepts 8/16-bit PCM, 8-bit µ-law (format 7) and A-law (format 6),
// any channel count (averaged to mono), and streaming headers whose sizes
// are placeholders (read until EOF). It does not need to seek; the
// io.ReadSeeker parameter mirrors the file-based callers.
func ReadWAV(r io.ReadSeeker) (pcm []int16, rate int, err error) {
	return ReadWAVStream(r)
}

// ReadWAVStream is ReadWAV for non-seekable readers such as a pipe from
// `espeak-ng --stdout`. Memory use is bounded by the bytes actually read,
// whatever sizes the header claims.
func ReadWAVStream(r io.Reader) (pcm []int16, rate int, err error) {
	f, size, err := readHeader(r)
	if err != nil {
		return nil, 0, err
	}
	pcm, err = readData(r, f, size, decodeFrames)
	return pcm, f.rate, err
}

// readHeader reads up to the start of the data chunk and returns the
// format and the data chunk's declared size.
func readHeader(r io.Reader) (*wavFormat, uint32, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, fmt.Errorf("%w: reading RIFF header: %v", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%w: starts with %q…%q", ErrNotWAV, hdr[0:4], hdr[8:12])
	}
	var f *wavFormat
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, 0, fmt.Errorf("%w: no data chunk (%v)", ErrTruncatedWAV, err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			var err error
			if f, err = readFmt(r, size); err != nil {
				return nil, 0, err
			}
		case "data":
			if f == nil {
				return nil, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrUnsupportedWAV)
			}
			return f, size, nil
		default:
			if size >= placeholderSize {
				return nil, 0, fmt.Errorf("%w: %q chunk of unknown size before data", ErrUnsupportedWAV, id)
			}
			if err := skip(r, int64(size)+int64(size&1)); err != nil {
				return nil, 0, fmt.Errorf("%w: in %q chunk: %v", ErrTruncatedWAV, id, err)
			}
		}
	}
}

// readFmt parses and validates a fmt chunk body of the given size.
func readFmt(r io.Reader, size uint32) (*wavFormat, error) {
	if size < 16 || size > maxFmtSize {
		return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
	}
	body := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%w: in fmt chunk: %v", ErrTruncatedWAV, err)
	}
	le := binary.LittleEndian
	f := &wavFormat{
		tag:      int(le.Uint16(body[0:])),
		channels: int(le.Uint16(body[2:])),
		rate:     int(le.Uint32(body[4:])),
		bits:     int(le.Uint16(body[14:])),
	}
	if f.tag == wavFormatExtensible && size >= 40 {
		f.tag = int(le.Uint16(body[24:])) // first two bytes of the SubFormat GUID
	}
	ok := (f.tag == wavFormatPCM && (f.bits == 16 || f.bits == 8)) ||
		((f.tag == wavFormatMuLaw || f.tag == wavFormatALaw) && f.bits == 8)
	if !ok {
		return nil, fmt.Errorf("%w: format tag %d with %d bits per sample (want 8/16-bit PCM, µ-law or A-law)",
			ErrUnsupportedWAV, f.tag, f.bits)
	}
	if f.channels < 1 || f.channels > maxWAVChannels {
		return nil, fmt.Errorf("%w: %d channels", ErrUnsupportedWAV, f.channels)
	}
	if f.rate < 1 || f.rate > maxWAVRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz", ErrUnsupportedWAV, f.rate)
	}
	return f, nil
}

// readData decodes the data chunk in fixed-size blocks with decode
// (decodeFrames mixes to mono, decodeInterleaved keeps the channels). A
// placeholder size means "until EOF"; otherwise an early EOF is
// ErrTruncatedWAV.
func readData(r io.Reader, f *wavFormat, size uint32,
	decode func([]int16, []byte, *wavFormat) []int16) ([]int16, error) {
	streaming := size >= placeholderSize
	if !streaming {
		r = io.LimitReader(r, int64(size))
	}
	frameBytes := f.channels * f.bits / 8
	var pcm []int16
	buf := make([]byte, readBlock-readBlock%frameBytes)
	var total int64
	pending := 0 // bytes of an incomplete frame carried to the next block
	for {
		n, err := io.ReadFull(r, buf[pending:])
		n += pending
		total += int64(n - pending)
		whole := n - n%frameBytes
		pcm = decode(pcm, buf[:whole], f)
		pending = copy(buf, buf[whole:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("audio: reading WAV data: %w", err)
		}
	}
	if !streaming && total < int64(size) {
		return nil, fmt.Errorf("%w: data chunk has %d of %d bytes", ErrTruncatedWAV, total, size)
	}
	return pcm, nil
}

// decodeFrames appends the mono samples of whole frames in b to pcm.
func decodeFrames(pcm []int16, b []byte, f *wavFormat) []int16 {
	width := f.bits / 8
	for off := 0; off < len(b); off += f.channels * width {
		var sum int32
		for c := range f.channels {
			sum += decodeSample(b[off+c*width:], f)
		}
		pcm = append(pcm, int16(sum/int32(f.channels)))
	}
	return pcm
}

// decodeInterleaved appends every channel's sample of whole frames in b
// to pcm, still interleaved.
func decodeInterleaved(pcm []int16, b []byte, f *wavFormat) []int16 {
	width := f.bits / 8
	for off := 0; off < len(b); off += width {
		pcm = append(pcm, int16(decodeSample(b[off:], f)))
	}
	return pcm
}

// decodeSample decodes the one sample at the start of b.
func decodeSample(b []byte, f *wavFormat) int32 {
	switch {
	case f.tag == wavFormatMuLaw:
		return int32(ulawDecTable[b[0]])
	case f.tag == wavFormatALaw:
		return int32(alawDecTable[b[0]])
	case f.bits == 8: // 8-bit PCM is unsigned, centred on 128
		return (int32(b[0]) - 128) << 8
	default:
		return int32(int16(binary.LittleEndian.Uint16(b)))
	}
}

// skip discards n bytes (io.Discard would do too, but reports no EOF).
func skip(r io.Reader, n int64) error {
	if s, ok := r.(io.Seeker); ok {
		// Seeking past EOF succeeds silently, so a bogus size would hide
		// truncation; the next header read still reports it.
		if _, err := s.Seek(n, io.SeekCurrent); err == nil {
			return nil
		}
	}
	got, err := io.CopyN(io.Discard, r, n)
	if err == io.EOF {
		return fmt.Errorf("%d of %d bytes", got, n)
	}
	return err
}

// WriteWAV writes pcm (interleaved when channels > 1) as a 16-bit PCM WAV
// file at rate Hz. Only Write is used; the io.WriteSeeker parameter
// mirrors the file-based callers.
func WriteWAV(w io.WriteSeeker, pcm []int16, rate, channels int) error {
	if channels < 1 || channels > maxWAVChannels {
		return fmt.Errorf("audio: WriteWAV: %d channels", channels)
	}
	if rate < 1 || rate > maxWAVRate {
		return fmt.Errorf("audio: WriteWAV: sample rate %d Hz", rate)
	}
	if len(pcm)%channels != 0 {
		return fmt.Errorf("audio: WriteWAV: %d samples is not a whole number of %d-channel frames", len(pcm), channels)
	}
	if int64(len(pcm))*2 > math.MaxUint32-36 {
		return fmt.Errorf("audio: WriteWAV: %d samples do not fit in a RIFF file", len(pcm))
	}
	if _, err := w.Write(EncodeWAV(pcm, rate, channels)); err != nil {
		return fmt.Errorf("audio: writing WAV: %w", err)
	}
	return nil
}

// EncodeWAV returns pcm (interleaved when channels > 1) as the bytes of a
// 16-bit PCM WAV file. channels < 1 is treated as 1; a trailing partial
// frame is dropped. Use WriteWAV for validated input.
func EncodeWAV(pcm []int16, rate, channels int) []byte {
	channels = max(channels, 1)
	pcm = pcm[:len(pcm)-len(pcm)%channels]
	dataLen := len(pcm) * 2
	b := make([]byte, 44+dataLen)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], wavFormatPCM)
	le.PutUint16(b[22:], uint16(channels))
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(rate*channels*2)) // byte rate
	le.PutUint16(b[32:], uint16(channels*2))      // block align
	le.PutUint16(b[34:], 16)                      // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(dataLen))
	for i, s := range pcm {
		le.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}
