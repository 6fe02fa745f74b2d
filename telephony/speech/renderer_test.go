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

	"hotline/configs"
	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

func defaultPrompts(t testing.TB) map[string]string {
	t.Helper()
	texts, err := configs.Default().PromptTexts()
	if err != nil {
		t.Fatal(err)
	}
	return texts
}

// packRenderer is the default configuration with the embedded pack and
// no TTS engine at all, as on a machine with nothing but Go.
func packRenderer(t testing.TB, opts ...Option) *Renderer {
	t.Helper()
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModePack}, append([]Option{WithTTS(nil)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// valueUtterances are the amounts, dates and times the duration tests speak.
var valueUtterances = []struct {
	name string
	seg  say.Segment
}{
	{"zero", say.Amount(0)},
	{"one grosz", say.Amount(1)},
	{"1234.56", say.Amount(123456)},
	{"21 zł", say.Amount(2100)},
	{"big", say.Amount(987_654_321_09)},
	{"overpaid", say.Amount(-5000)},
	{"15 March 2026", say.Date(day(2026, 3, 15))},
	{"1 Jan 1900", say.Date(day(1900, 1, 1))},
	{"31 Dec 2100", say.Date(day(2100, 12, 31))},
	{"29 Feb 2000", say.Date(day(2000, 2, 29))},
	{"15:30", say.Segment{Kind: say.KindTime, Hour: 15, Minute: 30}},
	{"0:05", say.Segment{Kind: say.KindTime, Hour: 0, Minute: 5}},
	{"digits", say.Digits("12/345")},
	{"account", say.Account("61109010140000071219812874")},
	{"count", say.Number(3)},
}

// checkSpeech asserts plausible duration (0.15–1.2 s per word) and level.
func checkSpeech(t *testing.T, pcm []int16, words int) {
	t.Helper()
	d := seconds(len(pcm))
	if per := d / float64(words); per < 0.15 || per > 1.2 {
		t.Errorf("%.2f s for %d words (%.2f s per word)", d, words, per)
	}
	if db := audio.DBFS(audio.RMS(pcm)); db < -40 {
		t.Errorf("RMS %.1f dBFS: silent", db)
	}
}

func wordCount(t *testing.T, seg say.Segment) int {
	t.Helper()
	w, err := say.Words(seg)
	if err != nil {
		t.Fatal(err)
	}
	return len(strings.Fields(w))
}

// TestRenderPackValues: the concatenation path speaks every kind of value
// with plausible duration and level, and streams it frame by frame.
func TestRenderPackValues(t *testing.T) {
	r := packRenderer(t)
	ctx := context.Background()
	for _, tt := range valueUtterances {
		t.Run(tt.name, func(t *testing.T) {
			u := say.New(say.Prompt("debt_balance"), tt.seg)
			start := time.Now()
			st, err := r.Render(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var f audio.Frame
			if err := st.ReadFrame(&f); err != nil {
				t.Fatal(err)
			}
			first := time.Since(start)
			rest := readAllFrames(t, st)
			all := append(f[:], rest...)
			t.Logf("%.2f s of audio, first frame after %v", seconds(len(all)), first)
			if first > 50*time.Millisecond {
				t.Errorf("first frame after %v", first)
			}
			if len(all)%audio.FrameSamples != 0 {
				t.Errorf("%d samples is not whole frames", len(all))
			}
			full, err := r.RenderAll(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(full, all[:len(full)]) || len(all)-len(full) >= audio.FrameSamples {
				t.Errorf("RenderAll (%d samples) differs from the frames (%d samples)", len(full), len(all))
			}
			value, err := r.RenderAll(ctx, say.New(tt.seg))
			if err != nil {
				t.Fatal(err)
			}
			checkSpeech(t, value, wordCount(t, tt.seg))
		})
	}
}

func TestRenderErrors(t *testing.T) {
	r := packRenderer(t)
	tests := []struct {
		name string
		u    say.Utterance
		want error
	}{
		{"unknown prompt", say.New(say.Prompt("no_such_prompt")), say.ErrUnknownPrompt},
		{"bad date", say.New(say.Segment{Kind: say.KindDate, Year: 2025, Month: 2, Day: 29}), say.ErrInvalidSegment},
		{"bad kind", say.New(say.Segment{}), say.ErrInvalidSegment},
		{"free text without TTS", say.New(say.Prompt("debt_creditor"), say.Text("Bank Przykładowy S.A.")), ErrNoTTS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Render(context.Background(), tt.u)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRenderEmptyUtterance(t *testing.T) {
	st, err := packRenderer(t).Render(context.Background(), say.New())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var f audio.Frame
	if err := st.ReadFrame(&f); !errors.Is(err, io.EOF) {
		t.Fatalf("ReadFrame = %v, want EOF", err)
	}
}

// TestRenderPackGaps: pieces are separated by the pauses the text asks for.
func TestRenderPackGaps(t *testing.T) {
	p := testPack(t, map[string]string{"a": "Ala ma kota.", "b": "Kwota wynosi"}, []string{"dwa", "trzy"})
	r, err := NewRenderer(Config{Prompts: map[string]string{"a": "Ala ma kota.", "b": "Kwota wynosi"}}, WithPack(p), WithTTS(nil))
	if err != nil {
		t.Fatal(err)
	}
	clipLen := func(id string) int { u, _, _ := p.Prompt(id); return len(u) }
	wordLen := func(w string) int { u, _ := p.Word(w); return len(u) }
	got, err := r.RenderAll(context.Background(), say.New(say.Prompt("a"), say.Prompt("b"), say.Digits("23"), say.Account("2323 23")))
	if err != nil {
		t.Fatal(err)
	}
	want := clipLen("a") + sentenceGap + clipLen("b") + segmentGap +
		wordLen("dwa") + wordGap + wordLen("trzy") + segmentGap +
		wordLen("dwa") + wordGap + wordLen("trzy") + wordGap + wordLen("dwa") + wordGap + wordLen("trzy") + commaGap +
		wordLen("dwa") + wordGap + wordLen("trzy")
	if len(got) != want {
		t.Fatalf("rendered %d samples, want %d", len(got), want)
	}
}

// TestRecordingsOverrideAndFallback: a recording wins over the pack at any
// sample rate; prompts without one fall back to the pack; the start-up
// warning lists them and the misnamed file once.
func TestRecordingsOverrideAndFallback(t *testing.T) {
	prompts := map[string]string{"greeting": "Dzień dobry.", "goodbye": "Do widzenia."}
	p := testPack(t, prompts, nil)
	dir := t.TempDir()
	rec := audio.Tone(1000, -3, 16000, 16000) // 1 s at 16 kHz
	if err := os.WriteFile(filepath.Join(dir, "greeting.wav"), audio.EncodeWAV(rec, 16000, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gretting.wav"), audio.EncodeWAV(rec, 16000, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	log, logs := logBuffer()
	r, err := NewRenderer(Config{Prompts: prompts, PromptsDir: dir, Logger: log}, WithPack(p), WithTTS(nil))
	if err != nil {
		t.Fatal(err)
	}
	rep := r.Report()
	if !slices.Equal(rep.Recorded, []string{"greeting"}) || !slices.Equal(rep.MissingRecordings, []string{"goodbye"}) ||
		!slices.Equal(rep.Pack, []string{"goodbye"}) || !slices.Equal(rep.UnknownRecordings, []string{"gretting.wav"}) {
		t.Errorf("report = %+v", rep)
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"speech: some prompts"); n != 1 {
		t.Errorf("%d start-up warnings, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "missing_recordings=goodbye") || !strings.Contains(logs.String(), "gretting.wav") {
		t.Errorf("warning does not list the prompts:\n%s", logs)
	}
	got, err := r.RenderAll(context.Background(), say.New(say.Prompt("greeting")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != audio.Rate {
		t.Errorf("recording rendered as %d samples, want %d (1 s resampled to 8 kHz)", len(got), audio.Rate)
	}
	if peak := audio.Peak(got); peak < 20000 {
		t.Errorf("recording peak %d: not the recording", peak)
	}
	bye, err := r.RenderAll(context.Background(), say.New(say.Prompt("goodbye")))
	if err != nil {
		t.Fatal(err)
	}
	clip, _, _ := p.Prompt("goodbye")
	if !slices.Equal(bye, audio.DecodeUlaw(nil, clip)) {
		t.Error("prompt without a recording is not the pack clip")
	}
}

func TestRecordingsErrors(t *testing.T) {
	prompts := map[string]string{"greeting": "Dzień dobry."}
	if _, err := NewRenderer(Config{Prompts: prompts, PromptsDir: filepath.Join(t.TempDir(), "nope")}, WithTTS(nil)); err == nil {
		t.Error("a missing prompts_dir was accepted")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greeting.wav"), []byte("not a wav"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRenderer(Config{Prompts: prompts, PromptsDir: dir}, WithTTS(nil)); err == nil || !strings.Contains(err.Error(), "greeting.wav") {
		t.Errorf("a broken recording gave %v", err)
	}
}

// TestStalePromptText: a pack clip rendered from other wording is not
// played; the prompt goes to TTS, or cannot be spoken without one.
func TestStalePromptText(t *testing.T) {
	p := testPack(t, map[string]string{"greeting": "Dzień dobry, tu Alektum."}, nil)
	now := map[string]string{"greeting": "Dzień dobry, tu Windykacja Przykład."}

	log, logs := logBuffer()
	tts := &fakeTTS{}
	r, err := NewRenderer(Config{Prompts: now, Logger: log}, WithPack(p), WithTTS(tts))
	if err != nil {
		t.Fatal(err)
	}
	if rep := r.Report(); !slices.Equal(rep.Stale, []string{"greeting"}) || !slices.Equal(rep.TTS, []string{"greeting"}) {
		t.Errorf("report = %+v", rep)
	}
	if !strings.Contains(logs.String(), "tts_prompts=greeting") {
		t.Errorf("no warning about the reworded prompt:\n%s", logs)
	}
	if _, err := r.RenderAll(context.Background(), say.New(say.Prompt("greeting"))); err != nil {
		t.Fatal(err)
	}
	if tts.calls.Load() != 1 || tts.texts[0] != Normalize(now["greeting"]) {
		t.Errorf("TTS calls %d, texts %q", tts.calls.Load(), tts.texts)
	}

	// Whitespace differences are not a new wording.
	same, err := NewRenderer(Config{Prompts: map[string]string{"greeting": " Dzień  dobry,\ttu Alektum. "}}, WithPack(p), WithTTS(nil))
	if err != nil {
		t.Fatal(err)
	}
	if rep := same.Report(); !slices.Equal(rep.Pack, []string{"greeting"}) {
		t.Errorf("report = %+v", rep)
	}

	log, logs = logBuffer()
	mute, err := NewRenderer(Config{Prompts: now, Logger: log}, WithPack(p), WithTTS(nil))
	if err != nil {
		t.Fatal(err)
	}
	if rep := mute.Report(); !slices.Equal(rep.Unspeakable, []string{"greeting"}) {
		t.Errorf("report = %+v", rep)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "prompts=greeting") {
		t.Errorf("no error about the unspeakable prompt:\n%s", logs)
	}
	if _, err := mute.Render(context.Background(), say.New(say.Prompt("greeting"))); !errors.Is(err, ErrNoTTS) {
		t.Errorf("Render = %v, want ErrNoTTS", err)
	}
}

func TestNewRendererConfigErrors(t *testing.T) {
	if _, err := NewRenderer(Config{Mode: "festival"}); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := NewRenderer(Config{Mode: ModeEspeak}, WithTTS(nil)); !errors.Is(err, ErrNoTTS) {
		t.Errorf("espeak mode without an engine: %v", err)
	}
	if _, err := NewRenderer(Config{Mode: ModeEspeak, EspeakPath: filepath.Join(t.TempDir(), "espeak-ng")}); !errors.Is(err, ErrNoTTS) {
		t.Errorf("espeak mode with a missing binary: %v", err)
	}
	if _, err := NewRenderer(Config{Mode: ModeHTTP, HTTP: HTTPConfig{URL: "ftp://x"}}); err == nil {
		t.Error("bad HTTP URL accepted")
	}
	log, logs := logBuffer()
	if _, err := NewRenderer(Config{Mode: ModePack, EspeakPath: filepath.Join(t.TempDir(), "espeak-ng"), Logger: log}); err != nil {
		t.Errorf("pack mode must work without espeak-ng: %v", err)
	}
	if !strings.Contains(logs.String(), "free text") {
		t.Errorf("no warning that free text cannot be spoken:\n%s", logs)
	}
}
