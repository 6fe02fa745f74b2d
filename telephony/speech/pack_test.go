package speech

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/configs"
	"hotline/dialogs"
	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

const rerender = "regenerate it: go run ./cmd/hotline prompts render --out telephony/speech/pack"

func embedded(t testing.TB) *Pack {
	t.Helper()
	p, err := EmbeddedPack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEmbeddedPackHasEveryPrompt: every prompt id the dialogs use has a
// clip in the embedded pack, rendered from today's built-in wording.
func TestEmbeddedPackHasEveryPrompt(t *testing.T) {
	p := embedded(t)
	texts, err := configs.Default().PromptTexts()
	if err != nil {
		t.Fatal(err)
	}
	ids := dialogs.PromptIDs()
	if len(ids) < 20 {
		t.Fatalf("dialogs.PromptIDs() = %d ids, suspiciously few", len(ids))
	}
	for _, id := range ids {
		ulaw, src, ok := p.Prompt(id)
		switch {
		case !ok:
			t.Errorf("prompt %q has no clip in the embedded pack; %s", id, rerender)
		case collapseSpace(src) != collapseSpace(texts[id]):
			t.Errorf("prompt %q in the pack was rendered from old text %q, the wording is now %q; %s", id, src, texts[id], rerender)
		default:
			pcm := audio.DecodeUlaw(nil, ulaw)
			// ~12 characters per second at 165 words per minute.
			perChar := seconds(len(pcm)) / float64(len([]rune(src)))
			if perChar < 0.03 || perChar > 0.15 {
				t.Errorf("prompt %q: %.2f s for %d characters", id, seconds(len(pcm)), len([]rune(src)))
			}
			if db := audio.DBFS(audio.RMS(pcm)); db < -40 {
				t.Errorf("prompt %q: RMS %.1f dBFS, nearly silent", id, db)
			}
		}
	}
}

// valueWords collects the words of value segments the way the renderer
// splits them, over a systematic enumeration independent of Vocabulary.
func valueWords(t *testing.T) map[string]string {
	t.Helper()
	words := map[string]string{} // word → an example segment, for the message
	add := func(seg say.Segment) {
		s, err := say.Words(seg)
		if err != nil {
			t.Fatalf("say.Words(%+v): %v", seg, err)
		}
		for _, tok := range splitWords(s) {
			if !tok.pause {
				if _, ok := words[tok.word]; !ok {
					words[tok.word] = seg.Kind.String()
				}
			}
		}
	}
	// Amounts: every sum up to 2000 zł in steps of 1.01 zł, every grosz
	// value, round and odd big sums, and random int64s.
	for g := int64(0); g <= 200_000; g += 101 {
		add(say.Amount(g))
	}
	for g := int64(0); g < 100; g++ {
		add(say.Amount(g))
		add(say.Amount(100 + g))
		add(say.Amount(500 + g))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		add(say.Amount(rng.Int64()))
		add(say.Amount(-rng.Int64N(1e12)))
		add(say.Number(rng.Int64() >> rng.UintN(63)))
	}
	for p, n := int64(1), 0; n < 19; p, n = p*10, n+1 {
		for _, k := range []int64{1, 2, 3, 4, 5, 9} {
			if p <= (1<<63-1)/k {
				add(say.Number(k * p))
				add(say.Amount(k * p))
			}
		}
	}
	for n := int64(-1000); n <= 1000; n++ {
		add(say.Number(n))
	}
	// Dates: every day of 1900–2100.
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() <= 2100; d = d.AddDate(0, 0, 1) {
		add(say.Date(d))
	}
	// Times: every minute of the day.
	for h := range 24 {
		for m := range 60 {
			add(say.Segment{Kind: say.KindTime, Hour: h, Minute: m})
		}
	}
	add(say.Digits("0123456789/-*# 12/34-5"))
	add(say.Account("PL61 1090 1014 0000 0712 1981 2874"))
	add(say.Account("12345"))
	return words
}

// TestEmbeddedPackHasEveryWord: any amount, count, date, time, digit
// string or account number can be spoken from the pack alone.
func TestEmbeddedPackHasEveryWord(t *testing.T) {
	p := embedded(t)
	words := valueWords(t)
	if len(words) < 120 {
		t.Fatalf("only %d distinct words enumerated", len(words))
	}
	var missing []string
	for w, kind := range words {
		if _, ok := p.Word(w); !ok {
			missing = append(missing, w+" ("+kind+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d words have no clip in the embedded pack: %s; %s", len(missing), strings.Join(missing, ", "), rerender)
	}
	// Vocabulary (what the pack is rendered from) must cover the same set.
	voc := Vocabulary()
	for w := range words {
		if _, ok := slices.BinarySearch(voc, w); !ok {
			t.Errorf("Vocabulary() lacks %q", w)
		}
	}
}

// TestEmbeddedPackClips: word clips are trimmed, audible and short, and
// the whole pack stays small enough to commit.
func TestEmbeddedPackClips(t *testing.T) {
	p := embedded(t)
	info := p.Info()
	if !strings.HasPrefix(info.Engine, "espeak-ng") || info.Voice == "" || info.Rate == 0 {
		t.Errorf("pack engine %q voice %q rate %d", info.Engine, info.Voice, info.Rate)
	}
	if len(p.audio) > 6<<20 {
		t.Errorf("pack.ulaw is %d bytes; keep the committed pack under 6 MB", len(p.audio))
	}
	for _, w := range p.Words() {
		ulaw, _ := p.Word(w)
		pcm := audio.DecodeUlaw(nil, ulaw)
		if d := seconds(len(pcm)); d < 0.1 || d > 2 {
			t.Errorf("word %q lasts %.2f s", w, d)
		}
		if db := audio.DBFS(audio.RMS(pcm)); db < -40 {
			t.Errorf("word %q: RMS %.1f dBFS", w, db)
		}
		// Trimmed: no more than 40 ms of silence at either end.
		if lead := slices.IndexFunc(pcm, func(s int16) bool { return s > 200 || s < -200 }); lead > audio.Rate*40/1000 {
			t.Errorf("word %q starts with %d ms of silence", w, lead/8)
		}
	}
}

func TestLoadPackRejectsBadPacks(t *testing.T) {
	tests := []struct{ name, index string }{
		{"not json", `{`},
		{"wrong format", `{"format":"pcm/16000","prompts":{},"words":{}}`},
		{"clip outside audio", `{"format":"ulaw/8000/mono","prompts":{"a":{"offset":2,"length":9,"text":"x"}},"words":{}}`},
		{"empty clip", `{"format":"ulaw/8000/mono","prompts":{},"words":{"a":{"offset":0,"length":0,"text":"a"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mapPack(t, tt.index, make([]byte, 10)); err == nil {
				t.Fatal("LoadPack accepted it")
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	got := splitWords("dwa sześć, jeden zero ,  trzy")
	want := []token{{word: "dwa"}, {word: "sześć"}, {pause: true}, {word: "jeden"}, {word: "zero"}, {pause: true}, {word: "trzy"}}
	if !slices.Equal(got, want) {
		t.Fatalf("splitWords = %+v, want %+v", got, want)
	}
}

func TestTrimSilence(t *testing.T) {
	tone := audio.Tone(300, -6, 800, audio.Rate)
	pcm := append(append(audio.Silence(4000), tone...), audio.Silence(4000)...)
	got := trimSilence(pcm)
	if want := len(tone) + trimLead + trimTail; len(got) < want-4 || len(got) > want+4 {
		t.Errorf("trimmed to %d samples, want about %d", len(got), want)
	}
	if len(trimSilence(audio.Silence(100))) != 0 {
		t.Error("silence not trimmed to nothing")
	}
}
