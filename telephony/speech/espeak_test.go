package speech

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Bank\tPrzykładowy \n S.A. ", "Bank Przykładowy es a"},
		{"Windykacja sp. z o.o.", "Windykacja spółka z ograniczoną odpowiedzialnością"},
		{"Firma Sp.z o. o. i S.A.", "Firma spółka z ograniczoną odpowiedzialnością i es a"},
		{"ul. Przykładowa, nr 5", "ulica Przykładowa, numer pięć"},
		{"Bank 24", "Bank dwadzieścia cztery"},
		{"Konto 1234", "Konto jeden dwa trzy cztery"},
		{`„Kredyt” (Polska) - *oddział*`, "Kredyt, Polska, oddział"},
		{"Kowalska-Nowak & Syn", "Kowalska-Nowak i Syn"},
		{"-- Zaczyna się od myślnika", "Zaczyna się od myślnika"},
		{"O'Brien / Kowalski #1", "OBrien Kowalski jeden"},
		{"Koniec. , Dalej", "Koniec. Dalej"},
		{"", ""},
		{"***", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// wavStream is what espeak-ng --stdout writes: placeholder sizes.
func wavStream(pcm []int16, rate int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0x7FFFF024))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(0x7FFFF000))
	binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}

func TestReadWAVStream(t *testing.T) {
	pcm := audio.Tone(440, -3, 5000, 22050)
	for name, r := range map[string]io.Reader{
		"whole":        bytes.NewReader(wavStream(pcm, 22050)),
		"byte by byte": iotest.OneByteReader(bytes.NewReader(wavStream(pcm, 22050))),
		"odd halves":   iotest.HalfReader(bytes.NewReader(wavStream(pcm, 22050))),
	} {
		t.Run(name, func(t *testing.T) {
			var got []int16
			err := readWAVStream(r, func(p []int16, rate int) error {
				if rate != 22050 {
					t.Fatalf("rate %d", rate)
				}
				got = append(got, p...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, pcm) {
				t.Fatalf("got %d samples, want %d identical", len(got), len(pcm))
			}
		})
	}
	bad := map[string][]byte{
		"empty":   nil,
		"not wav": []byte("ID3\x03 this is an mp3 file"),
		"stereo": func() []byte {
			b := wavStream(nil, 22050)
			b[22] = 2
			return b
		}(),
	}
	for name, b := range bad {
		if err := readWAVStream(bytes.NewReader(b), func([]int16, int) error { return nil }); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	stop := errors.New("stop")
	if err := readWAVStream(bytes.NewReader(wavStream(pcm, 22050)), func([]int16, int) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit error not returned: %v", err)
	}
}

func TestEspeakVersion(t *testing.T) {
	if v := espeakVersion("eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data\n"); v != "1.51" {
		t.Errorf("version %q", v)
	}
	if v := espeakVersion("garbage"); v != "unknown" {
		t.Errorf("version %q", v)
	}
}

func newEspeak(t testing.TB) *Espeak {
	t.Helper()
	needEspeak(t)
	e, err := NewEspeak(context.Background(), DefaultEspeakPath, "pl", DefaultEspeakRate)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEspeakEngine: the real espeak-ng speaks Polish at 22050 Hz, and the
// 8 kHz conversion keeps 1 dB of headroom.
func TestEspeakEngine(t *testing.T) {
	e := newEspeak(t)
	if !strings.HasPrefix(e.Name(), "espeak-ng 1.") || !strings.Contains(e.Name(), "voice=pl rate=165") {
		t.Errorf("Name() = %q", e.Name())
	}
	ctx := context.Background()
	pcm, rate, err := e.Synthesize(ctx, "Dzień dobry, tu wirtualny asystent.")
	if err != nil {
		t.Fatal(err)
	}
	if rate != 22050 || len(pcm) < rate {
		t.Fatalf("%d samples at %d Hz", len(pcm), rate)
	}
	tel, err := Telephone(ctx, e, "Dzień dobry, tu wirtualny asystent.")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(pcm) * 8000 / 22050; len(tel) < want-2 || len(tel) > want+2 {
		t.Errorf("8 kHz: %d samples, want %d", len(tel), want)
	}
	if peak := audio.Peak(tel); peak > 30000 { // −1 dB is 29204; the filter may ring a little
		t.Errorf("peak %d: no headroom", peak)
	}
	if _, _, err := e.Synthesize(ctx, " *** "); !errors.Is(err, ErrEmptyText) {
		t.Errorf("empty text: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := e.Synthesize(cctx, "Dzień dobry."); err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestRenderEspeakValues: the whole-sentence path on amounts and dates.
func TestRenderEspeakValues(t *testing.T) {
	needEspeak(t)
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeEspeak})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range valueUtterances {
		t.Run(tt.name, func(t *testing.T) {
			u := say.New(tt.seg)
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
			total := time.Since(start)
			t.Logf("%.2f s of audio; first frame after %v, all after %v", seconds(len(rest)+len(f)), first, total)
			pcm := append(f[:], rest...)
			checkSpeech(t, pcm, wordCount(t, tt.seg))
			// Second time: from the cache, at once.
			start = time.Now()
			again, err := r.RenderAll(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 20*time.Millisecond {
				t.Errorf("cached render took %v", d)
			}
			if len(again) > len(pcm) || len(pcm)-len(again) >= audio.FrameSamples {
				t.Errorf("cached %d samples, first %d", len(again), len(pcm))
			}
		})
	}
	if st := r.CacheStats(); st.Hits < int64(len(valueUtterances)) {
		t.Errorf("cache stats %+v", st)
	}
}

// TestRenderPackModeFreeTextWithEspeak: in pack mode a creditor's name is
// synthesized between pack clips.
func TestRenderPackModeFreeTextWithEspeak(t *testing.T) {
	needEspeak(t)
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModePack})
	if err != nil {
		t.Fatal(err)
	}
	if r.Report().Engine == "" {
		t.Fatal("pack mode did not pick up espeak-ng")
	}
	pcm, err := r.RenderAll(context.Background(), say.New(say.Prompt("debt_creditor"), say.Text("Bank Przykładowy S.A.")))
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, pcm, 6)
}
