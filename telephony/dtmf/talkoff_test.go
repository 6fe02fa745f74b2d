package dtmf

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"hotline/telephony/audio"
)

// polishText is varied Polish: hotline prompts, numbers in digits (espeak
// reads them as large numbers), amounts, dates, names and plain talk.
var polishText = []string{
	"Dzień dobry, tu wirtualny asystent. Rozmowa może być nagrywana.",
	"Proszę podać numer akt sprawy, a następnie nacisnąć krzyżyk.",
	"Numer akt to 123456789, powtarzam: jeden dwa trzy cztery pięć sześć siedem osiem dziewięć.",
	"Proszę podać datę urodzenia w formacie dzień, miesiąc, rok: 15 marca 1985.",
	"Saldo zadłużenia wynosi 1234 złote i 56 groszy, w tym odsetki 78 złotych.",
	"Ostatnia wpłata w kwocie 300 złotych została zaksięgowana 2 lutego 2026 roku.",
	"Najbliższa rata w wysokości 450 złotych przypada na 10 kwietnia.",
	"Aby usłyszeć informacje o zadłużeniu, naciśnij jeden. Aby poznać numer konta, naciśnij dwa.",
	"Aby umówić rozmowę z konsultantem, naciśnij trzy. Aby połączyć się z konsultantem, naciśnij zero.",
	"Numer rachunku bankowego: 61 1090 1014 0000 0712 1981 2874.",
	"Halo? Tak, słucham. Nie, to pomyłka. Chwileczkę, zaraz sprawdzę.",
	"Zadzwonię jutro o piętnastej trzydzieści, bo teraz jestem w pracy.",
	"Czy mogę rozłożyć dług na raty? Ile wynosi najniższa rata?",
	"Przepraszam, nie zrozumiałem. Czy może pan powtórzyć wolniej?",
	"Wszyscy konsultanci są zajęci. Twoje miejsce w kolejce: 3. Przewidywany czas oczekiwania to 5 minut.",
	"Siedemset osiemdziesiąt dziewięć tysięcy sześćset pięćdziesiąt cztery, dwa, dwa, dwa.",
	"Szczęśliwego nowego roku! Grzegorz Brzęczyszczykiewicz, Chrząszczyżewoszyce, powiat Łękołody.",
	"W Szczebrzeszynie chrząszcz brzmi w trzcinie. Król Karol kupił królowej Karolinie korale koloru koralowego.",
	"Dziękujemy za rozmowę. Do usłyszenia.",
}

// espeakVoices covers several voices, pitches and speeds.
var espeakVoices = [][]string{
	{"-v", "pl"},
	{"-v", "pl", "-p", "20", "-s", "140"},
	{"-v", "pl", "-p", "80", "-s", "200"},
	{"-v", "pl+f3", "-p", "60"},
	{"-v", "pl+f5", "-p", "99", "-s", "160"},
	{"-v", "pl+m3", "-p", "35", "-s", "120"},
	{"-v", "pl+klatt", "-s", "175"},
	{"-v", "pl+f2", "-p", "70", "-s", "230"},
}

// espeakPolish8k synthesises text with espeak-ng and resamples it to 8 kHz.
// It skips the test when espeak-ng is missing, unless HOTLINE_E2E=1.
func espeakPolish8k(t *testing.T, args []string, text string) []int16 {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("espeak-ng missing and HOTLINE_E2E=1")
		}
		t.Skip("espeak-ng not installed")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(append([]string{}, args...), "--stdout", text)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("espeak-ng %v: %v\n%s", args, err, stderr.String())
	}
	pcm, rate, err := audio.ReadWAVStream(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("espeak-ng output: %v", err)
	}
	pcm8, err := audio.Resample(pcm, rate, sampleRate)
	if err != nil {
		t.Fatal(err)
	}
	return pcm8
}

// TestDetectorTalkOff: no key may be heard in at least five minutes of
// Polish speech (the 8 voice settings × the text, plain and via µ-law).
func TestDetectorTalkOff(t *testing.T) {
	if testing.Short() {
		t.Skip("talk-off corpus skipped in -short mode")
	}
	text := strings.Join(polishText, " ")
	var total int
	for i, args := range espeakVoices {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			pcm := espeakPolish8k(t, args, text)
			total += len(pcm)
			variants := map[string][]int16{"plain": pcm, "ulaw": ulawRoundTrip(pcm)}
			if i%2 == 0 {
				loud := append([]int16(nil), pcm...)
				audio.Gain(loud, 6) // hot level, clipped peaks add harmonics
				variants["+6 dB"] = loud
			}
			for name, x := range variants {
				var d Detector
				for _, f := range audio.Frames(x) {
					for _, ev := range d.Process(f) {
						t.Errorf("%s: false key %q at %v", name, ev.Digit, ev.Start)
					}
				}
			}
		})
	}
	if secs := total / sampleRate; secs < 300 && !t.Skipped() && total > 0 {
		t.Errorf("only %d s of speech, want ≥ 300 s", secs)
	} else {
		t.Logf("talk-off corpus: %s s of speech (plus the µ-law and gain variants)", strconv.Itoa(secs))
	}
}
