// Package recording writes call recordings: one stereo 16-bit PCM WAV
// per call, the caller in the left channel and the bot (or the consultant
// it bridged to) in the right, both on one timeline that starts when the
// call is answered. It knows nothing about SIP or WebRTC: a leg hands it
// audio tagged with the offset from the call's start, from whichever
// goroutines receive and send, and the Recorder places each sample by
// time. A side that is silent (no packets, silence suppression, loss) is
// therefore zeros at the right place in the file, never shifted.
//
// Recordings hold personal data (voices, case numbers, dates of birth):
// files are created 0600 in 0700 directories, and Prune deletes them
// after the retention period.
package recording

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	// Window is how much audio the Recorder holds before writing it: the
	// most one side may lag the other (network delay, jitter, reordering)
	// and still land in the file at its place. Audio arriving later than
	// that is dropped (counted in Stats), so memory stays bounded.
	Window = 200 * time.Millisecond

	headerSize = 44
	channels   = 2
	// placeholder sizes in the header while recording: readers treat them
	// as "read to EOF" (audio.ReadWAVStream does), so a file left behind
	// by a crash is still playable. Close writes the real sizes.
	placeholder = math.MaxUint32
	// maxData is the most PCM a RIFF file can describe (sizes are uint32):
	// about 37 hours of 8 kHz stereo.
	maxData = math.MaxUint32 - (headerSize - 8)
	// maxSamples is the longest timeline, in samples per channel.
	maxSamples = maxData / (channels * 2)
	// bufSize batches writes: 8 KiB is ~128 ms of 8 kHz stereo, so a call
	// costs a few write(2)s per second, not fifty.
	bufSize  = 8 << 10
	maxRate  = 192000
	dirPerm  = 0o700
	filePerm = 0o600
)

// ErrClosed is returned by a second Close.
var ErrClosed = errors.New("recording: closed")

// Stats counts what a Recorder could not place; for the call's log line.
type Stats struct {
	// Late is samples dropped because they arrived more than Window
	// behind the newest audio, after their place had been written.
	Late int64
	// Lost is samples not written because of an I/O error or the RIFF
	// size limit.
	Lost int64
}

// Recorder writes one time-aligned stereo WAV file incrementally: audio
// older than Window behind the newest sample is written out in 20 ms
// frames as time advances; the WAV sizes are fixed on Close. It is safe
// for concurrent use (typically a receive and a send goroutine). I/O
// errors never reach the writers: recording stops, the call goes on, and
// Close reports the first error.
type Recorder struct {
	path  string
	frame int64 // samples per channel in one write-out (20 ms)
	span  int64 // samples per channel the ring holds (Window)

	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	ring  []int16 // interleaved L,R; sample i lives at (i mod span)
	head  int64   // first sample (per channel) not yet written out
	end   int64   // one past the newest sample on either channel
	out   []byte  // one encoded frame
	stats Stats
	err   error // first I/O error; nothing more is written after it
	done  bool
}

// New creates the file at path (and its missing parent directories),
// writes a WAV header with placeholder sizes and returns a Recorder for
// 16-bit stereo at rate Hz. An existing file is an error: recordings are
// never overwritten.
func New(path string, rate int) (*Recorder, error) {
	if rate < 50 || rate > maxRate {
		return nil, fmt.Errorf("recording: sample rate %d Hz out of range", rate)
	}
	f, err := create(path)
	if err != nil {
		return nil, err
	}
	frame := int64(rate / 50)
	span := frame * int64(Window/(20*time.Millisecond))
	r := &Recorder{
		path:  path,
		frame: frame,
		span:  span,
		f:     f,
		w:     bufio.NewWriterSize(f, bufSize),
		ring:  make([]int16, channels*span),
		out:   make([]byte, 0, channels*2*frame),
	}
	// Straight to the file, not through w: from now on the file is a
	// playable WAV whatever happens to the process.
	if _, err := f.Write(header(rate)); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("recording: write header: %w", err)
	}
	return r, nil
}

// create opens a new file for writing with private permissions, making
// its directory if needed.
func create(path string) (*os.File, error) {
	open := func() (*os.File, error) {
		return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	}
	f, err := open()
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
			return nil, fmt.Errorf("recording: %w", err)
		}
		f, err = open()
	}
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return f, nil
}

// Path is the file being written.
func (r *Recorder) Path() string { return r.path }

// WriteLeft places pcm in the left (caller) channel starting at offset t
// from the call's start.
func (r *Recorder) WriteLeft(t time.Duration, pcm []int16) { r.write(0, t, pcm) }

// WriteRight places pcm in the right (bot or consultant) channel starting
// at offset t from the call's start.
func (r *Recorder) WriteRight(t time.Duration, pcm []int16) { r.write(1, t, pcm) }

// Extend moves the timeline to t: what neither side wrote up to t is
// silence. A leg calls it at hangup so the file lasts as long as the
// call even when both sides were quiet at the end.
func (r *Recorder) Extend(t time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.advance(min(r.sampleAt(t), maxSamples))
}

// Stats reports what could not be placed so far.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// write places pcm on channel ch from offset t.
func (r *Recorder) write(ch int, t time.Duration, pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || len(pcm) == 0 {
		return
	}
	pos := r.sampleAt(t)
	if pos < r.head { // before the start, or already written out
		n := min(int64(len(pcm)), r.head-pos)
		if pos >= 0 {
			r.stats.Late += n
		}
		pcm, pos = pcm[n:], pos+n
	}
	if over := pos + int64(len(pcm)) - maxSamples; over > 0 {
		// Past what a RIFF file can describe (~37 h at 8 kHz).
		n := min(over, int64(len(pcm)))
		r.stats.Lost += n
		pcm = pcm[:int64(len(pcm))-n]
	}
	for len(pcm) > 0 {
		n := min(int64(len(pcm)), r.frame)
		r.advance(pos + n)
		for i := range n {
			r.ring[channels*((pos+i)%r.span)+int64(ch)] = pcm[i]
		}
		pcm, pos = pcm[n:], pos+n
	}
}

// advance makes the timeline reach sample to: while to is beyond what
// the ring holds, the oldest frame (zeros where nobody wrote) goes out.
func (r *Recorder) advance(to int64) {
	for to > r.head+r.span {
		r.flushFrame(r.frame)
	}
	r.end = max(r.end, to)
}

// flushFrame writes the oldest n samples per channel (n ≤ frame) and
// frees their place in the ring.
func (r *Recorder) flushFrame(n int64) {
	base := channels * (r.head % r.span)
	frame := r.ring[base : base+channels*n]
	if r.err == nil {
		r.out = r.out[:0]
		for _, s := range frame {
			r.out = binary.LittleEndian.AppendUint16(r.out, uint16(s))
		}
		if _, err := r.w.Write(r.out); err != nil {
			r.err = fmt.Errorf("recording: write: %w", err)
		}
	} else {
		r.stats.Lost += n
	}
	clear(frame)
	r.head += n
}

// sampleAt converts an offset to a sample index, rounding to the nearest
// sample, without overflowing for long offsets.
func (r *Recorder) sampleAt(t time.Duration) int64 {
	rate := r.frame * 50
	sec, rem := int64(t/time.Second), int64(t%time.Second)
	return sec*rate + (rem*rate+int64(time.Second)/2)/int64(time.Second)
}

// Close writes out what is buffered (up to the newest sample, a partial
// last frame included), fixes the RIFF and data sizes in the header and
// closes the file. It returns the first error of the recording, if any:
// the file is then still a valid WAV of what reached the disk.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return ErrClosed
	}
	r.done = true
	for r.head < r.end {
		r.flushFrame(min(r.frame, r.end-r.head))
	}
	errs := []error{r.err}
	if r.err == nil {
		if err := r.w.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("recording: write: %w", err))
		}
	}
	errs = append(errs, r.finish())
	if err := r.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("recording: close: %w", err))
	}
	r.ring = nil
	return errors.Join(errs...)
}

// finish writes the real sizes into the header. The data size comes from
// the file's length, so after a failed write (a full disk) the header
// describes exactly the whole frames that reached the disk.
func (r *Recorder) finish() error {
	st, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("recording: stat: %w", err)
	}
	data := max(st.Size()-headerSize, 0)
	data = min(data-data%(channels*2), maxData)
	var sizes [4]byte
	binary.LittleEndian.PutUint32(sizes[:], uint32(data+headerSize-8))
	if _, err := r.f.WriteAt(sizes[:], 4); err != nil {
		return fmt.Errorf("recording: fix RIFF size: %w", err)
	}
	binary.LittleEndian.PutUint32(sizes[:], uint32(data))
	if _, err := r.f.WriteAt(sizes[:], 40); err != nil {
		return fmt.Errorf("recording: fix data size: %w", err)
	}
	if data < st.Size()-headerSize {
		// Drop a torn last frame so players see whole samples only.
		if err := r.f.Truncate(headerSize + data); err != nil {
			return fmt.Errorf("recording: truncate: %w", err)
		}
	}
	return nil
}

// header is a 16-bit stereo PCM WAV header with placeholder sizes.
func header(rate int) []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, headerSize)
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, placeholder)
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1) // PCM
	b = le.AppendUint16(b, channels)
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*2)) // byte rate
	b = le.AppendUint16(b, channels*2)              // block align
	b = le.AppendUint16(b, 16)                      // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, placeholder)
	return b
}

var _ io.Closer = (*Recorder)(nil)
