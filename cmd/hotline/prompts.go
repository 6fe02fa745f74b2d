package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hotline/telephony/audio"
	"hotline/telephony/speech"
)

// cmdPrompts dispatches "prompts render".
func cmdPrompts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "render" {
		return usagef("prompts: want \"prompts render --out DIR\"\n%s", usage)
	}
	return cmdPromptsRender(ctx, args[1:], stdout, stderr)
}

// cmdPromptsRender regenerates the prompt pack with espeak-ng: every
// prompt of the configuration (the built-in wording unless --config
// overrides it) and every word the verbalizer can produce, as the compact
// pack.ulaw + index.json that telephony/speech embeds. With --wav it also
// writes DIR/wav/<id>.wav (usable as speech.prompts_dir) and
// DIR/wav/words/<word>.wav, for listening.
func cmdPromptsRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prompts render", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	out := fs.String("out", "", "directory for pack.ulaw and index.json (e.g. telephony/speech/pack)")
	wav := fs.Bool("wav", false, "also write plain 8 kHz WAV files to DIR/wav for listening")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usagef("prompts render: want --out DIR and no other arguments")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	prompts, err := cfg.PromptTexts()
	if err != nil {
		return usageError{err}
	}
	tts, err := speech.NewEspeak(ctx, cfg.Speech.EspeakPath, cfg.Speech.Voice, cfg.Speech.EspeakRate)
	if err != nil {
		return fmt.Errorf("prompts render needs espeak-ng: %w", err)
	}
	opt := speech.BuildOptions{
		Prompts: prompts, Words: speech.Vocabulary(), Voice: tts.Voice(), Rate: tts.Rate(),
	}
	if *wav {
		wavDir := filepath.Join(*out, "wav")
		if err := os.MkdirAll(filepath.Join(wavDir, "words"), 0o755); err != nil {
			return err
		}
		opt.Clip = func(kind, key string, pcm []int16) error {
			path := filepath.Join(wavDir, key+".wav")
			if kind == "word" {
				path = filepath.Join(wavDir, "words", key+".wav")
			}
			return os.WriteFile(path, audio.EncodeWAV(pcm, audio.Rate, 1), 0o644)
		}
	}
	start := time.Now()
	idx, blob, err := speech.BuildPack(ctx, tts, opt)
	if err != nil {
		return fmt.Errorf("prompts render: %w", err)
	}
	if err := speech.WritePack(*out, idx, blob); err != nil {
		return fmt.Errorf("prompts render: %w", err)
	}
	fmt.Fprintf(stdout, "rendered %d prompts and %d words with %s in %s: %s, %.1f s of audio, %d bytes\n",
		len(idx.Prompts), len(idx.Words), idx.Engine, time.Since(start).Round(time.Millisecond),
		filepath.Join(*out, speech.PackAudioFile), float64(len(blob))/audio.Rate, len(blob))
	if *wav {
		fmt.Fprintf(stdout, "WAV files in %s (usable as speech.prompts_dir)\n", filepath.Join(*out, "wav"))
	}
	if strings.Contains(filepath.ToSlash(*out), "telephony/speech/pack") {
		fmt.Fprintln(stdout, "rebuild hotline to embed the new pack")
	}
	return nil
}
