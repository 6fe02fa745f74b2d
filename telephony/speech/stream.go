package speech

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"hotline/telephony/audio"
)

// errStreamClosed is returned by ReadFrame after Close.
var errStreamClosed = errors.New("speech: stream closed")

// source is one piece of an utterance's audio at 8 kHz. read fills dst
// with up to len(dst) samples and may block until at least one is ready;
// it returns io.EOF (with n == 0) at the end. close is idempotent and safe
// to call concurrently with read.
type source interface {
	read(dst []int16) (int, error)
	close()
}

// ulawSource plays a µ-law clip (a pack clip or a cached sentence),
// decoding only the samples asked for, so long prompts cost nothing up front.
type ulawSource struct {
	b   []byte
	pos int
}

func (s *ulawSource) read(dst []int16) (int, error) {
	if s.pos >= len(s.b) {
		return 0, io.EOF
	}
	n := min(len(dst), len(s.b)-s.pos)
	for i, c := range s.b[s.pos : s.pos+n] {
		dst[i] = audio.UlawToLinear(c)
	}
	s.pos += n
	return n, nil
}

func (s *ulawSource) close() {}

// pcmSource plays linear samples (a recording).
type pcmSource struct {
	pcm []int16
	pos int
}

func (s *pcmSource) read(dst []int16) (int, error) {
	if s.pos >= len(s.pcm) {
		return 0, io.EOF
	}
	n := copy(dst, s.pcm[s.pos:])
	s.pos += n
	return n, nil
}

func (s *pcmSource) close() {}

// gapSource plays n samples of silence.
type gapSource struct{ n int }

func (s *gapSource) read(dst []int16) (int, error) {
	if s.n <= 0 {
		return 0, io.EOF
	}
	n := min(len(dst), s.n)
	clear(dst[:n])
	s.n -= n
	return n, nil
}

func (s *gapSource) close() {}

// jobSource plays audio that a goroutine is still synthesizing. The buffer
// is unbounded on purpose: it holds one sentence (16 kB per second), and a
// producer that never waits for the consumer cannot deadlock with it or
// hold a TTS process open while a long prompt before it plays.
type jobSource struct {
	cancel   context.CancelFunc
	more     chan struct{} // signalled (capacity 1) after every append and at the end
	finished chan struct{} // closed when the producer goroutine returns
	stop     chan struct{} // closed by close
	stopOnce sync.Once

	mu   sync.Mutex
	buf  []int16
	done bool
	err  error // why the producer stopped early (nil at a normal end)

	pos int // consumer side only
}

func newJobSource(cancel context.CancelFunc) *jobSource {
	return &jobSource{cancel: cancel, more: make(chan struct{}, 1),
		finished: make(chan struct{}), stop: make(chan struct{})}
}

// push appends samples (producer side).
func (j *jobSource) push(pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	j.mu.Lock()
	j.buf = append(j.buf, pcm...)
	j.mu.Unlock()
	j.signal()
}

// finish marks the end of the audio (producer side).
func (j *jobSource) finish(err error) {
	j.mu.Lock()
	j.done, j.err = true, err
	j.mu.Unlock()
	j.signal()
}

func (j *jobSource) signal() {
	select {
	case j.more <- struct{}{}:
	default:
	}
}

// emitted reports how many samples the producer has pushed.
func (j *jobSource) emitted() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.buf)
}

func (j *jobSource) read(dst []int16) (int, error) {
	for {
		j.mu.Lock()
		if j.pos < len(j.buf) {
			n := copy(dst, j.buf[j.pos:])
			j.pos += n
			j.mu.Unlock()
			return n, nil
		}
		done, err := j.done, j.err
		j.mu.Unlock()
		if done {
			if err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		select {
		case <-j.more:
		case <-j.stop:
			return 0, errStreamClosed
		}
	}
}

// close stops the producer and waits for it, so no goroutine or TTS
// process outlives the stream.
func (j *jobSource) close() {
	j.stopOnce.Do(func() { close(j.stop) })
	j.cancel()
	<-j.finished
}

// seqStream plays sources one after another as 20 ms frames.
type seqStream struct {
	srcs   []source
	i      int
	err    error
	closed atomic.Bool
	once   sync.Once
}

var _ Stream = (*seqStream)(nil)

func (s *seqStream) ReadFrame(f *audio.Frame) error {
	if s.closed.Load() {
		return errStreamClosed
	}
	if s.err != nil {
		return s.err
	}
	n := s.fill(f[:])
	if n == 0 {
		return s.err
	}
	clear(f[n:])
	// An error after a partial frame is reported on the next call.
	return nil
}

// fill reads up to len(dst) samples across source boundaries and sets
// s.err (io.EOF at the end) when it stops early.
func (s *seqStream) fill(dst []int16) int {
	n := 0
	for n < len(dst) {
		if s.i >= len(s.srcs) {
			s.err = io.EOF
			break
		}
		k, err := s.srcs[s.i].read(dst[n:])
		n += k
		if errors.Is(err, io.EOF) {
			s.srcs[s.i].close()
			s.i++
			continue
		}
		if err != nil {
			s.err = err
			break
		}
	}
	return n
}

// readAll plays the rest of the stream into one slice, without the
// padding of the last frame.
func (s *seqStream) readAll() ([]int16, error) {
	var out []int16
	buf := make([]int16, 4096)
	for {
		n := s.fill(buf)
		out = append(out, buf[:n]...)
		if s.err != nil {
			if errors.Is(s.err, io.EOF) {
				return out, nil
			}
			return out, s.err
		}
	}
}

// Close stops every source. It may be called from another goroutine while
// ReadFrame blocks (barge-in); that ReadFrame then returns an error.
func (s *seqStream) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		for _, src := range s.srcs {
			src.close()
		}
	})
	return nil
}
