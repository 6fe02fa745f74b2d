package speech

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"go.uber.org/goleak"

	"hotline/telephony/audio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeTTS speaks every text as a 300 Hz tone of 20 ms per character at
// 16 kHz, between 50 ms silences (so trimming has something to trim).
// Optionally it streams in 100 ms chunks and waits at gate after the first
// chunk, or fails.
type fakeTTS struct {
	name   string
	stream bool
	gate   chan struct{} // nil: no waiting
	err    error
	calls  atomic.Int32
	mu     sync.Mutex
	texts  []string
}

const fakeRate = 16000

func (f *fakeTTS) Name() string {
	if f.name == "" {
		return "fake 1.0"
	}
	return f.name
}

func (f *fakeTTS) render(text string) []int16 {
	n := len([]rune(text)) * fakeRate / 50
	pcm := audio.Silence(fakeRate / 20)
	pcm = append(pcm, audio.Tone(300, -6, n, fakeRate)...)
	return append(pcm, audio.Silence(fakeRate/20)...)
}

func (f *fakeTTS) Synthesize(ctx context.Context, text string) ([]int16, int, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.texts = append(f.texts, text)
	f.mu.Unlock()
	if f.err != nil {
		return nil, 0, f.err
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	return f.render(text), fakeRate, nil
}

// streamingFake is fakeTTS with SynthesizeStream.
type streamingFake struct{ fakeTTS }

func (f *streamingFake) SynthesizeStream(ctx context.Context, text string, emit func([]int16, int) error) error {
	f.calls.Add(1)
	if f.err != nil {
		return f.err
	}
	pcm := f.render(text)
	for i := 0; i < len(pcm); i += fakeRate / 10 {
		if err := emit(pcm[i:min(len(pcm), i+fakeRate/10)], fakeRate); err != nil {
			return err
		}
		if i == 0 && f.gate != nil {
			select {
			case <-f.gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

var (
	_ TTS          = (*fakeTTS)(nil)
	_ StreamingTTS = (*streamingFake)(nil)
)

// testPack builds a pack with BuildPack and the fake engine.
func testPack(t *testing.T, prompts map[string]string, words []string) *Pack {
	t.Helper()
	idx, blob, err := BuildPack(context.Background(), &fakeTTS{}, BuildOptions{
		Prompts: prompts, Words: words, Voice: "pl", Rate: DefaultEspeakRate,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WritePack(dir, idx, blob); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPack(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mapPack is a pack from in-memory files.
func mapPack(t *testing.T, index string, blob []byte) (*Pack, error) {
	t.Helper()
	return LoadPack(fstest.MapFS{
		PackIndexFile: &fstest.MapFile{Data: []byte(index)},
		PackAudioFile: &fstest.MapFile{Data: blob},
	})
}

// logBuffer returns a logger writing text lines into a buffer.
func logBuffer() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readAllFrames plays a stream to the end.
func readAllFrames(t *testing.T, st Stream) []int16 {
	t.Helper()
	var out []int16
	var f audio.Frame
	for {
		err := st.ReadFrame(&f)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		out = append(out, f[:]...)
	}
}

// needEspeak skips without espeak-ng, unless HOTLINE_E2E=1 demands it.
func needEspeak(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(DefaultEspeakPath); err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatalf("HOTLINE_E2E=1 but espeak-ng is missing: %v", err)
		}
		t.Skip("espeak-ng not installed (apt-get install espeak-ng)")
	}
}

func seconds(samples int) float64 { return float64(samples) / audio.Rate }
