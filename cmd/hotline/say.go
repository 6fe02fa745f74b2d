package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"hotline/assistant/cases"
	"hotline/configs"
	"hotline/telephony/audio"
	"hotline/telephony/speech"
	"hotline/telephony/speech/say"
)

// speechConfig maps the speech section of the configuration onto the
// renderer's configuration (telephony does not import configs).
func speechConfig(cfg *configs.Config, prompts map[string]string, log *slog.Logger) speech.Config {
	s := cfg.Speech
	return speech.Config{
		Prompts: prompts, Mode: s.TTS, PromptsDir: s.PromptsDir,
		Voice: s.Voice, EspeakPath: s.EspeakPath, EspeakRate: s.EspeakRate,
		HTTP:      speech.HTTPConfig{URL: s.HTTP.URL, APIKey: s.HTTP.APIKey, Model: s.HTTP.Model, Voice: s.HTTP.Voice},
		CacheSize: s.CacheSize, Timeout: s.Timeout, Logger: log,
	}
}

// parseAmount reads "1234.56" (or "-12.50") into grosze with the case
// files' parser: a dot, at most two decimals, never a float.
func parseAmount(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	g, err := cases.ParseAmount(strings.TrimPrefix(s, "-"))
	if neg {
		g = -g
	}
	return g, err
}

// cmdSay renders what a caller would hear into an 8 kHz mono 16-bit WAV
// file, with the configured voice (speech.tts). Segments are spoken in the
// order they are given; positional TEXT is free text (needs espeak-ng in
// pack mode).
func cmdSay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("say", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	out := fs.String("out", "", "WAV file to write (8 kHz mono 16-bit)")
	var segs []say.Segment
	fs.Func("amount", "a sum in PLN with a dot, e.g. 1234.56", func(s string) error {
		g, err := parseAmount(s)
		if err == nil {
			segs = append(segs, say.Amount(g))
		}
		return err
	})
	fs.Func("date", "a date, YYYY-MM-DD", func(s string) error {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return errors.New("want YYYY-MM-DD")
		}
		segs = append(segs, say.Date(t))
		return nil
	})
	fs.Func("time", "a clock time, HH:MM", func(s string) error {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return errors.New("want HH:MM")
		}
		segs = append(segs, say.Time(t))
		return nil
	})
	fs.Func("digits", "digits read one by one (a case number)", func(s string) error {
		segs = append(segs, say.Digits(s))
		return nil
	})
	fs.Func("prompt", "a prompt id (see configs/prompts.pl.yaml)", func(s string) error {
		segs = append(segs, say.Prompt(s))
		return nil
	})
	// Free text may stand before, between or after the flags.
	rest := args
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		segs = append(segs, say.Text(fs.Arg(0)))
		rest = fs.Args()[1:]
	}
	if *out == "" {
		return usagef("say: --out FILE.wav is required")
	}
	if len(segs) == 0 {
		return usagef("say: nothing to say: give TEXT, --amount, --date, --time, --digits or --prompt")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	prompts, err := cfg.PromptTexts()
	if err != nil {
		return usageError{err}
	}
	r, err := speech.NewRenderer(speechConfig(cfg, prompts, newLogger(cfg, stderr)))
	if err != nil {
		return err
	}
	pcm, err := r.RenderAll(ctx, say.New(segs...))
	if errors.Is(err, say.ErrUnknownPrompt) || errors.Is(err, say.ErrInvalidSegment) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := audio.WriteWAV(f, pcm, audio.Rate, 1); err != nil {
		f.Close()
		return fmt.Errorf("say: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %.2f s, 8000 Hz mono 16-bit, voice %s\n", *out, float64(len(pcm))/audio.Rate, cfg.Speech.TTS)
	return nil
}
