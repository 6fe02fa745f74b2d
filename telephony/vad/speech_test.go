package vad

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"hotline/telephony/audio"
)

// espeak8k synthesises Polish text at 8 kHz; it skips without espeak-ng
// unless HOTLINE_E2E=1.
func espeak8k(t *testing.T, text string) []int16 {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("espeak-ng missing and HOTLINE_E2E=1")
		}
		t.Skip("espeak-ng not installed")
	}
	out, err := exec.Command(bin, "-v", "pl", "--stdout", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng: %v", err)
	}
	pcm, rate, err := audio.ReadWAVStream(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	pcm8, err := audio.Resample(pcm, rate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	return pcm8
}

// TestEspeakPhrasesWithGaps: short Polish answers separated by 1.5 s of
// line noise are found one spurt each, and nothing is found in the gaps.
func TestEspeakPhrasesWithGaps(t *testing.T) {
	phrases := []string{"Tak.", "Nie wiem.", "Proszę połączyć z konsultantem.", "Jeden dwa trzy cztery.", "Zadzwońcie jutro."}
	for _, c := range []struct {
		name    string
		noiseDB float64
		gainDB  float64
	}{
		{"clean line", -70, 0},
		{"quiet speaker on a noisy line", -45, -8},
	} {
		t.Run(c.name, func(t *testing.T) {
			type region struct{ from, to int } // in frames
			var pcm []int16
			var regions []region
			gap := noise(12000, c.noiseDB, 9)
			pcm = append(pcm, gap...)
			for _, p := range phrases {
				s := espeak8k(t, p)
				audio.Gain(s, c.gainDB)
				audio.Mix(s, noise(len(s), c.noiseDB, uint64(len(pcm))))
				regions = append(regions, region{len(pcm) / 160, (len(pcm) + len(s)) / 160})
				pcm = append(pcm, s...)
				pcm = append(pcm, gap...)
			}
			got := run(New(Config{}), pcm)
			if len(got) != len(phrases) {
				t.Errorf("found %d spurts %v for %d phrases at %v", len(got), got, len(phrases), regions)
			}
			for _, s := range got {
				inside := false
				for _, r := range regions {
					// Starts within the phrase; ends by 300 ms (15 frames) + 1 after it.
					if s.start >= r.from && s.start <= r.to && s.end > r.from && s.end <= r.to+16 {
						inside = true
					}
				}
				if !inside {
					t.Errorf("spurt %v..%v is not inside one phrase %v", ms(s.start), ms(s.end), regions)
				}
			}
		})
	}
}
