package main

import (
	"bytes"
	binenc "encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hotline/telephony/audio"
	"hotline/telephony/speech"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1234.56", 123456, true},
		{"0.5", 50, true},
		{"12", 1200, true},
		{"0.01", 1, true},
		{"-5.10", -510, true},
		{"999999999999.99", 99999999999999, true},
		{"9999999999999.00", 0, false},
		{"12,5", 0, false},
		{"1 234.56", 0, false},
		{"1.234", 0, false},
		{".5", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
		{"zł", 0, false},
	}
	for _, tt := range tests {
		got, err := parseAmount(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseAmount(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// readWAVFile checks the header is 8 kHz mono 16-bit PCM and returns the samples.
func readWAVFile(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " {
		t.Fatalf("%s is not a WAV file", path)
	}
	format, channels := binenc.LittleEndian.Uint16(b[20:]), binenc.LittleEndian.Uint16(b[22:])
	rate, bits := binenc.LittleEndian.Uint32(b[24:]), binenc.LittleEndian.Uint16(b[34:])
	if format != 1 || channels != 1 || rate != 8000 || bits != 16 {
		t.Fatalf("WAV format %d, %d channels, %d Hz, %d bits; want PCM mono 8000 Hz 16-bit", format, channels, rate, bits)
	}
	pcm, r, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil || r != 8000 {
		t.Fatalf("ReadWAV: %v (rate %d)", err, r)
	}
	return pcm
}

// noEspeak hides espeak-ng, as on a machine with nothing but Go.
var noEspeak = []string{"HOTLINE_SPEECH_ESPEAK_PATH=/nonexistent/espeak-ng"}

func TestSayWritesWAV(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		min, max float64 // seconds
	}{
		{"amount", []string{"--amount", "1234.56"}, 2, 8},
		{"prompt and amount", []string{"--prompt", "debt_balance", "--amount", "1234.56"}, 4, 12},
		{"date", []string{"--date", "2026-03-15"}, 2, 8},
		{"time", []string{"--time", "15:30"}, 0.8, 4},
		{"digits", []string{"--digits", "123456"}, 1.5, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".wav")
			res := runHotline(t, noEspeak, "", append([]string{"say", "--out", out}, tt.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			pcm := readWAVFile(t, out)
			if d := float64(len(pcm)) / 8000; d < tt.min || d > tt.max {
				t.Errorf("%.2f s of audio, want %.1f–%.1f s", d, tt.min, tt.max)
			}
			if db := audio.DBFS(audio.RMS(pcm)); db < -40 {
				t.Errorf("RMS %.1f dBFS: silent", db)
			}
			if !strings.Contains(res.stdout, "wrote "+out) {
				t.Errorf("stdout %q", res.stdout)
			}
		})
	}
}

func TestSayBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.wav")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"comma amount", []string{"say", "--amount", "12,5", "--out", out}, 2, "with a dot"},
		{"bad date", []string{"say", "--date", "2026-13-01", "--out", out}, 2, "YYYY-MM-DD"},
		{"bad time", []string{"say", "--time", "25:00", "--out", out}, 2, "HH:MM"},
		{"letters in digits", []string{"say", "--digits", "12a", "--out", out}, 2, "invalid segment"},
		{"unknown prompt", []string{"say", "--prompt", "nope", "--out", out}, 2, "unknown prompt"},
		{"no out", []string{"say", "--amount", "1"}, 2, "--out"},
		{"nothing", []string{"say", "--out", out}, 2, "nothing to say"},
		{"free text without espeak", []string{"say", "Bank Przykładowy", "--out", out}, 1, "espeak-ng"},
		{"prompts without render", []string{"prompts"}, 2, "prompts render"},
		{"render without out", []string{"prompts", "render"}, 2, "--out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runHotline(t, noEspeak, "", tt.args...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", res.code, res.stderr, tt.code, tt.msg)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a WAV file was written despite bad input")
	}
}

func needEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatalf("HOTLINE_E2E=1 but espeak-ng is missing: %v", err)
		}
		t.Skip("espeak-ng not installed")
	}
}

// TestSayEspeak: free text and the espeak voice, when espeak-ng is here.
func TestSayEspeak(t *testing.T) {
	needEspeak(t)
	out := filepath.Join(t.TempDir(), "x.wav")
	for _, env := range [][]string{nil, {"HOTLINE_SPEECH_TTS=espeak"}} {
		res := runHotline(t, env, "", "say", "Wierzycielem jest", "--amount", "7.05", "Bank Przykładowy S.A.", "--out", out)
		if res.code != 0 {
			t.Fatalf("%v: exit %d: %s", env, res.code, res.stderr)
		}
		pcm := readWAVFile(t, out)
		if d := float64(len(pcm)) / 8000; d < 2.5 || d > 12 {
			t.Errorf("%v: %.2f s", env, d)
		}
	}
}

// TestPromptsRender regenerates the pack and checks it is complete and
// identical to the committed one (espeak-ng output is deterministic).
func TestPromptsRender(t *testing.T) {
	needEspeak(t)
	dir := t.TempDir()
	res := runHotline(t, nil, "", "prompts", "render", "--out", dir, "--wav")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, speech.PackIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	var idx speech.PackIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if n := len(speech.Vocabulary()); len(idx.Words) != n {
		t.Errorf("%d words rendered, vocabulary has %d", len(idx.Words), n)
	}
	if _, err := os.Stat(filepath.Join(dir, "wav", "greeting.wav")); err != nil {
		t.Errorf("--wav: %v", err)
	}
	readWAVFile(t, filepath.Join(dir, "wav", "words", "tysiąc.wav"))
	committed, err := speech.EmbeddedPack()
	if err != nil {
		t.Fatal(err)
	}
	if committed.Info().Engine != idx.Engine {
		t.Skipf("committed pack is from %q, this machine has %q: not comparing bytes", committed.Info().Engine, idx.Engine)
	}
	got, err := os.ReadFile(filepath.Join(dir, speech.PackAudioFile))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../telephony/speech/pack/" + speech.PackAudioFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendered pack (%d bytes) differs from the committed one (%d bytes): run hotline prompts render --out telephony/speech/pack", len(got), len(want))
	}
}
