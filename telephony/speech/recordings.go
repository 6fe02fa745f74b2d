package speech

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"hotline/telephony/audio"
)

// loadRecordings reads dir/<id>.wav for every prompt id, at any sample
// rate and in any WAV encoding audio.ReadWAV accepts, resampled to 8 kHz.
// A missing file is not an error (that prompt falls back); an unreadable
// one is, because a voice talent's file that silently does not play is
// worse than a refusal to start. WAV files named after no prompt id are
// returned in unknown (usually a typo in a file name).
func loadRecordings(dir string, prompts map[string]string) (recs map[string][]int16, unknown []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("speech.prompts_dir: %w", err)
	}
	recs = map[string][]int16{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.EqualFold(filepath.Ext(name), ".wav") {
			continue
		}
		id := strings.TrimSuffix(name, filepath.Ext(name))
		if _, ok := prompts[id]; !ok {
			unknown = append(unknown, name)
			continue
		}
		pcm, err := readRecording(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("speech.prompts_dir: %w", err)
		}
		recs[id] = pcm
	}
	slices.Sort(unknown)
	return recs, unknown, nil
}

func readRecording(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, rate, err := audio.ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("%s: no audio", path)
	}
	if rate != audio.Rate {
		if pcm, err = audio.Resample(pcm, rate, audio.Rate); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return pcm, nil
}
