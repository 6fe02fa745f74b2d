package speech

import (
	"context"
	"testing"

	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

// sixSeconds is a typical dynamic sentence of about six seconds (6.2 s
// from the pack, 5.8 s from espeak-ng): "Łączna kwota do zapłaty wynosi
// dwieście trzydzieści cztery złote pięćdziesiąt groszy."
var sixSeconds = say.New(say.Prompt("debt_balance"), say.Amount(234_50))

func benchRenderAll(b *testing.B, r *Renderer) {
	ctx := context.Background()
	var n int
	for b.Loop() {
		pcm, err := r.RenderAll(ctx, sixSeconds)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pcm)
	}
	b.ReportMetric(seconds(n), "audio-s")
}

// BenchmarkRender6sPack: the concatenation path (embedded pack only).
func BenchmarkRender6sPack(b *testing.B) {
	benchRenderAll(b, packRenderer(b))
}

// BenchmarkRender6sEspeak: espeak-ng CLI, cache disabled (every sentence
// runs the process).
func BenchmarkRender6sEspeak(b *testing.B) {
	needEspeak(b)
	r, err := NewRenderer(Config{Prompts: defaultPrompts(b), Mode: ModeEspeak, CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	benchRenderAll(b, r)
}

func benchFirstFrame(b *testing.B, r *Renderer) {
	ctx := context.Background()
	var f audio.Frame
	for b.Loop() {
		st, err := r.Render(ctx, sixSeconds)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.ReadFrame(&f); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}

// BenchmarkFirstFramePack: Render plus the first 20 ms frame from the
// embedded pack (target ≤ 1 ms).
func BenchmarkFirstFramePack(b *testing.B) {
	benchFirstFrame(b, packRenderer(b))
}

// BenchmarkFirstFrameEspeak: the same through espeak-ng, uncached
// (streamed from the process's stdout).
func BenchmarkFirstFrameEspeak(b *testing.B) {
	needEspeak(b)
	r, err := NewRenderer(Config{Prompts: defaultPrompts(b), Mode: ModeEspeak, CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	benchFirstFrame(b, r)
}

// BenchmarkFirstFrameCached: espeak mode, sentence already in the cache.
func BenchmarkFirstFrameCached(b *testing.B) {
	needEspeak(b)
	r, err := NewRenderer(Config{Prompts: defaultPrompts(b), Mode: ModeEspeak})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.RenderAll(context.Background(), sixSeconds); err != nil {
		b.Fatal(err)
	}
	benchFirstFrame(b, r)
}

// BenchmarkReadFramePack: steady-state cost of one 20 ms frame.
func BenchmarkReadFramePack(b *testing.B) {
	r := packRenderer(b)
	ctx := context.Background()
	st, err := r.Render(ctx, sixSeconds)
	if err != nil {
		b.Fatal(err)
	}
	var f audio.Frame
	for b.Loop() {
		if err := st.ReadFrame(&f); err != nil {
			st.Close()
			if st, err = r.Render(ctx, sixSeconds); err != nil {
				b.Fatal(err)
			}
		}
	}
	st.Close()
}
