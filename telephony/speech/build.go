package speech

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"hotline/telephony/audio"
)

// Silence trimming of pack clips: samples below trimThreshold (about
// −46 dBFS) at either end are dropped, keeping a little lead-in and a
// longer tail for the decay of the last phoneme. espeak-ng ends every
// utterance with about 350 ms of silence, which would make joined words
// crawl.
const (
	trimThreshold = 164
	trimLead      = audio.Rate * 10 / 1000
	trimTail      = audio.Rate * 30 / 1000
)

// trimSilence returns pcm without its silent ends (a sub-slice).
func trimSilence(pcm []int16) []int16 {
	loud := func(s int16) bool { return s > trimThreshold || s < -trimThreshold }
	first := slices.IndexFunc(pcm, loud)
	if first < 0 {
		return pcm[:0]
	}
	last := len(pcm) - 1
	for !loud(pcm[last]) {
		last--
	}
	return pcm[max(0, first-trimLead):min(len(pcm), last+1+trimTail)]
}

// BuildOptions says what BuildPack renders.
type BuildOptions struct {
	Prompts map[string]string // prompt id → text
	Words   []string          // usually Vocabulary()
	// Voice and Rate are recorded in the index; the renderer uses the pack
	// for whole prompts in espeak mode only when they match its own.
	Voice string
	Rate  int
	// Workers synthesize in parallel (default 2).
	Workers int
	// Clip, when set, receives every clip as trimmed 8 kHz PCM (to write
	// WAVs for listening). kind is "prompt" or "word".
	Clip func(kind, key string, pcm []int16) error
}

// BuildPack renders every prompt and word with tts, trims their silent
// ends and packs them as one µ-law blob with its index. The output is
// deterministic for a deterministic engine: clips are ordered by prompt id,
// then by word.
func BuildPack(ctx context.Context, tts TTS, opt BuildOptions) (PackIndex, []byte, error) {
	type job struct {
		kind, key, text string
		pcm             []int16
		err             error
	}
	var jobs []*job
	ids := make([]string, 0, len(opt.Prompts))
	for id := range opt.Prompts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		jobs = append(jobs, &job{kind: "prompt", key: id, text: opt.Prompts[id]})
	}
	words := slices.Compact(slices.Sorted(slices.Values(opt.Words)))
	for _, w := range words {
		jobs = append(jobs, &job{kind: "word", key: w, text: w})
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				pcm, err := Telephone(ctx, tts, j.text)
				if err != nil {
					j.err = fmt.Errorf("%s %q: %w", j.kind, j.key, err)
					cancel()
					continue
				}
				j.pcm = trimSilence(pcm)
				if len(j.pcm) == 0 {
					j.err = fmt.Errorf("%s %q: rendered as silence", j.kind, j.key)
					cancel()
				}
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	idx := PackIndex{Format: PackFormat, Engine: tts.Name(), Voice: opt.Voice, Rate: opt.Rate,
		Prompts: map[string]PackClip{}, Words: map[string]PackClip{}}
	var blob []byte
	for _, j := range jobs {
		if j.err != nil {
			return PackIndex{}, nil, j.err
		}
		if j.pcm == nil {
			return PackIndex{}, nil, fmt.Errorf("%s %q: not rendered: %w", j.kind, j.key, context.Cause(ctx))
		}
		c := PackClip{Offset: len(blob), Length: len(j.pcm), Text: j.text}
		blob = audio.EncodeUlaw(blob, j.pcm)
		if j.kind == "prompt" {
			idx.Prompts[j.key] = c
		} else {
			idx.Words[j.key] = c
		}
		if opt.Clip != nil {
			if err := opt.Clip(j.kind, j.key, j.pcm); err != nil {
				return PackIndex{}, nil, err
			}
		}
	}
	return idx, blob, nil
}

// WritePack writes index.json and pack.ulaw into dir (created if needed).
func WritePack(dir string, idx PackIndex, blob []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ib, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, PackAudioFile), blob, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, PackIndexFile), append(ib, '\n'), 0o644)
}
