package speech

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

// TestSentenceModeCache: in TTS modes a whole utterance is one sentence,
// synthesized once and then served from the cache.
func TestSentenceModeCache(t *testing.T) {
	tts := &fakeTTS{}
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeHTTP, CacheSize: 2}, WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u := say.New(say.Prompt("debt_balance"), say.Amount(123456))
	a, err := r.RenderAll(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	want := "Łączna kwota do zapłaty wynosi tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy."
	if tts.calls.Load() != 1 || tts.texts[0] != want {
		t.Fatalf("TTS got %q", tts.texts)
	}
	// 16 kHz fake output → 8 kHz: half the samples (±1 for rounding).
	if n := len(tts.render(want)) / 2; len(a) < n-1 || len(a) > n+1 {
		t.Errorf("%d samples, want %d", len(a), n)
	}
	b, err := r.RenderAll(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if tts.calls.Load() != 1 {
		t.Errorf("second render called TTS again (%d calls)", tts.calls.Load())
	}
	if st := r.CacheStats(); st.Hits != 1 || st.Entries != 1 {
		t.Errorf("cache stats %+v", st)
	}
	// µ-law storage: the cached copy is within G.711 quantisation.
	for i := range a {
		if d := int(a[i]) - int(b[i]); d > 1100 || d < -1100 {
			t.Fatalf("sample %d: %d vs %d", i, a[i], b[i])
		}
	}
	// Bounded: two more sentences evict the first.
	for _, g := range []int64{1, 2} {
		if _, err := r.RenderAll(ctx, say.New(say.Amount(g))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.RenderAll(ctx, u); err != nil {
		t.Fatal(err)
	}
	if tts.calls.Load() != 4 {
		t.Errorf("%d TTS calls, want 4 (first sentence evicted)", tts.calls.Load())
	}
}

func TestSentenceModeRecordingsSplitSentences(t *testing.T) {
	prompts := map[string]string{"a": "Dzień dobry.", "b": "Kwota wynosi"}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.wav"), audio.EncodeWAV(audio.Tone(500, -6, 800, 8000), 8000, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	tts := &fakeTTS{}
	r, err := NewRenderer(Config{Prompts: prompts, Mode: ModeEspeak, PromptsDir: dir}, WithPack(testPack(t, prompts, nil)), WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.RenderAll(context.Background(), say.New(say.Prompt("a"), say.Prompt("b"), say.Amount(200)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tts.texts, []string{"Kwota wynosi dwa złote."}) {
		t.Errorf("TTS got %q", tts.texts)
	}
	if want := 800 + sentenceGap + len(tts.render(tts.texts[0]))/2; len(got) < want-1 || len(got) > want+1 {
		t.Errorf("%d samples, want %d", len(got), want)
	}
	// A prompt-only utterance comes from the pack: same voice and speed.
	tts.texts = nil
	if _, err := r.RenderAll(context.Background(), say.New(say.Prompt("b"))); err != nil {
		t.Fatal(err)
	}
	if len(tts.texts) != 0 {
		t.Errorf("prompt-only sentence synthesized: %q", tts.texts)
	}
}

// TestTTSFailureFallsBackToPack: a dead TTS server does not silence the call.
func TestTTSFailureFallsBackToPack(t *testing.T) {
	log, logs := logBuffer()
	tts := &fakeTTS{err: errors.New("connection refused")}
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeHTTP, Logger: log}, WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	u := say.New(say.Prompt("debt_balance"), say.Amount(123456))
	got, err := r.RenderAll(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	want, err := packRenderer(t).RenderAll(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("fallback rendered %d samples, the pack %d", len(got), len(want))
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("fallback not logged:\n%s", logs)
	}
	// Free text has no pack fallback: the error surfaces.
	st, err := r.Render(context.Background(), say.New(say.Text("Bank Przykładowy")))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var f audio.Frame
	if err := st.ReadFrame(&f); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame = %v, want the TTS error", err)
	}
}

// TestStreamingFirstFrameBeforeSynthesisEnds: the first frame plays while
// the engine is still producing the sentence.
func TestStreamingFirstFrameBeforeSynthesisEnds(t *testing.T) {
	tts := &streamingFake{fakeTTS{gate: make(chan struct{})}}
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeEspeak, CacheSize: -1}, WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Render(context.Background(), say.New(say.Prompt("debt_balance"), say.Amount(100)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var f audio.Frame
	if err := st.ReadFrame(&f); err != nil {
		t.Fatal(err) // would block forever if Render waited for the whole sentence
	}
	close(tts.gate)
	rest := readAllFrames(t, st)
	want := len(tts.render("Łączna kwota do zapłaty wynosi jeden złoty.")) / 2
	if n := len(rest) + audio.FrameSamples; n < want || n >= want+audio.FrameSamples {
		t.Errorf("%d samples, want %d rounded up to whole frames", n, want)
	}
}

// TestCloseUnblocksReadFrame: barge-in closes the stream while a read
// waits for the engine; the read returns and nothing leaks (goleak).
func TestCloseUnblocksReadFrame(t *testing.T) {
	tts := &fakeTTS{gate: make(chan struct{})} // never opened
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeHTTP, Timeout: time.Minute}, WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Render(context.Background(), say.New(say.Text("Bank Przykładowy")))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var f audio.Frame
		done <- st.ReadFrame(&f)
	}()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("ReadFrame returned audio after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadFrame still blocked after Close")
	}
	var f audio.Frame
	if err := st.ReadFrame(&f); err == nil {
		t.Error("ReadFrame after Close returned audio")
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestTTSTimeout: a hanging engine is cut off after Config.Timeout and the
// sentence is spoken from the pack.
func TestTTSTimeout(t *testing.T) {
	tts := &fakeTTS{gate: make(chan struct{})}
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeHTTP, Timeout: 50 * time.Millisecond}, WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.RenderAll(context.Background(), say.New(say.Amount(500)))
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, got, 2)
}
