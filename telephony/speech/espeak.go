package speech

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// Espeak is the espeak-ng command-line engine (Debian package espeak-ng,
// voice "pl"). It needs no cgo: every sentence is one process (about
// 30 ms, mostly start-up), and its WAV output is streamed as it comes.
type Espeak struct {
	path, voice string
	rate        int
	version     string
}

var _ StreamingTTS = (*Espeak)(nil)

// NewEspeak checks that the espeak-ng binary at path (a name is looked up
// in PATH) runs, and returns the engine. A missing binary gives an error
// wrapping ErrNoTTS.
func NewEspeak(ctx context.Context, path, voice string, rate int) (*Espeak, error) {
	if voice == "" {
		voice = DefaultVoice
	}
	if rate <= 0 {
		rate = DefaultEspeakRate
	}
	full, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found (install the espeak-ng package): %v", ErrNoTTS, path, err)
	}
	out, err := exec.CommandContext(ctx, full, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s --version: %v", ErrNoTTS, full, err)
	}
	return &Espeak{path: full, voice: voice, rate: rate, version: espeakVersion(string(out))}, nil
}

// espeakVersion picks "1.51" out of "eSpeak NG text-to-speech: 1.51  Data at: …".
func espeakVersion(out string) string {
	_, after, ok := strings.Cut(out, ":")
	if f := strings.Fields(after); ok && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// Name is "espeak-ng <version> voice=<voice> rate=<wpm>".
func (e *Espeak) Name() string {
	return "espeak-ng " + e.version + " voice=" + e.voice + " rate=" + strconv.Itoa(e.rate)
}

// Voice returns the espeak-ng voice.
func (e *Espeak) Voice() string { return e.voice }

// Rate returns the speed in words per minute.
func (e *Espeak) Rate() int { return e.rate }

// Synthesize renders text at espeak-ng's native 22050 Hz.
func (e *Espeak) Synthesize(ctx context.Context, text string) ([]int16, int, error) {
	var pcm []int16
	var rate int
	err := e.SynthesizeStream(ctx, text, func(p []int16, r int) error {
		pcm, rate = append(pcm, p...), r
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return pcm, rate, nil
}

// espeakChunk is how many bytes of stdout are read at a time: 20 ms of
// 22050 Hz audio, so the first frame is out as soon as espeak-ng writes it.
const espeakChunk = 882

// SynthesizeStream runs espeak-ng and emits its audio while it runs. The
// text is normalised (Normalize) and passed as one argument, never
// through a shell.
func (e *Espeak) SynthesizeStream(ctx context.Context, text string, emit func([]int16, int) error) error {
	text = Normalize(text)
	if text == "" {
		return ErrEmptyText
	}
	pctx := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// -b 1: the text is UTF-8 whatever the service's locale.
	cmd := exec.CommandContext(ctx, e.path, "-v", e.voice, "-s", strconv.Itoa(e.rate), "-b", "1", "--stdout", text)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 2048}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("espeak-ng: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("espeak-ng: %w", err)
	}
	streamErr := readWAVStream(bufio.NewReaderSize(stdout, 4*espeakChunk), emit)
	if streamErr != nil {
		cancel() // kill the process; Wait then reaps it
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	switch {
	case (streamErr != nil || waitErr != nil) && pctx.Err() != nil:
		return pctx.Err() // cancelled or timed out: the process was killed
	case streamErr != nil:
		return streamErr
	case waitErr != nil:
		return fmt.Errorf("espeak-ng: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// readWAVStream parses a RIFF WAV header from r and emits the samples of
// its data chunk as they arrive. espeak-ng --stdout cannot seek back, so
// its header carries placeholder sizes (0x7FFFF000); the data chunk is
// therefore read to the end of the stream rather than to its stated size.
func readWAVStream(r io.Reader, emit func([]int16, int) error) error {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("espeak-ng: WAV header: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return errors.New("espeak-ng: output is not a WAV stream")
	}
	rate, channels, bits := 0, 0, 0
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return fmt.Errorf("espeak-ng: WAV chunk: %w", err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		if id == "data" {
			break
		}
		if size > 1<<16 {
			return fmt.Errorf("espeak-ng: WAV chunk %q too large", id)
		}
		body := make([]byte, size+size&1)
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("espeak-ng: WAV chunk %q: %w", id, err)
		}
		if id == "fmt " && size >= 16 {
			if f := binary.LittleEndian.Uint16(body[0:2]); f != 1 {
				return fmt.Errorf("espeak-ng: WAV format %d, want PCM", f)
			}
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
		}
	}
	if rate <= 0 || channels != 1 || bits != 16 {
		return fmt.Errorf("espeak-ng: WAV %d Hz, %d channels, %d bits; want mono 16-bit", rate, channels, bits)
	}
	buf := make([]byte, espeakChunk*2)
	pcm := make([]int16, 0, espeakChunk)
	carry := 0 // a byte of a sample split across reads
	for {
		n, err := r.Read(buf[carry:])
		n += carry
		even := n &^ 1
		pcm = pcm[:0]
		for i := 0; i < even; i += 2 {
			pcm = append(pcm, int16(binary.LittleEndian.Uint16(buf[i:])))
		}
		if len(pcm) > 0 {
			if eerr := emit(pcm, rate); eerr != nil {
				return eerr
			}
		}
		carry = n - even
		if carry > 0 {
			buf[0] = buf[even]
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("espeak-ng: %w", err)
		}
	}
}

// limitedWriter keeps the first n bytes (espeak-ng's error message) and
// drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
