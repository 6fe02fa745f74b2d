// Package speech is the assistant's voice: it turns the engine's structured
// utterances (package say) into 8 kHz audio, pulled 20 ms at a time by the
// RTP pacer of a call leg.
//
// Audio for a prompt segment comes, in order of preference, from
//
//  1. a folder of recordings made by a voice talent (<id>.wav, any rate);
//  2. the prompt pack embedded in the binary (8 kHz µ-law clips rendered by
//     `hotline prompts render`), but only when the clip was rendered from
//     the prompt's current text, so a company that rewords a prompt never
//     hears the old wording;
//  3. a TTS engine (espeak-ng CLI or an OpenAI-compatible HTTP server).
//
// Values (amounts, dates, times, digit strings, counts) are put into Polish
// words in Go (package polish). In "pack" mode they are spoken by joining
// word clips from the pack, which needs nothing installed; in "espeak" and
// "http" mode the prompts and values of an utterance are synthesized as one
// sentence for natural prosody, and such sentences are cached. Free text
// (a creditor's name) always needs a TTS engine.
package speech

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"hotline/telephony/audio"
)

// Stream is rendered audio pulled one 20 ms frame at a time.
type Stream interface {
	// ReadFrame fills f with the next frame; the last frame is padded with
	// silence. It returns io.EOF after the last frame, or the error that
	// stopped rendering. It may block while audio is still being
	// synthesized.
	ReadFrame(f *audio.Frame) error
	// Close stops rendering and releases the stream's resources (a TTS
	// process, a goroutine). It is safe to call more than once.
	Close() error
}

// TTS is a text-to-speech engine.
type TTS interface {
	// Synthesize renders text, which is already in words, to mono 16-bit
	// PCM at the engine's own sample rate.
	Synthesize(ctx context.Context, text string) (pcm []int16, rate int, err error)
	// Name identifies the engine, its version, voice and speed. It is part
	// of the cache key and of the pack index, so anything that changes the
	// sound must change the name.
	Name() string
}

// StreamingTTS is a TTS that hands out audio while it is still
// synthesizing, so playback can start before the sentence is finished.
type StreamingTTS interface {
	TTS
	// SynthesizeStream calls emit with consecutive chunks of PCM at rate
	// Hz as they are produced. An error from emit stops synthesis and is
	// returned.
	SynthesizeStream(ctx context.Context, text string, emit func(pcm []int16, rate int) error) error
}

// Modes of Config.Mode.
const (
	ModePack   = "pack"
	ModeEspeak = "espeak"
	ModeHTTP   = "http"
)

// Errors callers branch on.
var (
	// ErrNoTTS: the segment needs a TTS engine (free text, or a prompt
	// with neither a recording nor a current pack clip) and none is
	// available (pack mode without espeak-ng).
	ErrNoTTS = errors.New("speech: no TTS engine available")
	// ErrMissingClip: a word of a value segment has no clip in the pack.
	ErrMissingClip = errors.New("speech: word missing from the prompt pack")
	// ErrEmptyText: there is nothing to synthesize after normalisation.
	ErrEmptyText = errors.New("speech: empty text")
)

// Config configures a Renderer. The zero value of every field but Prompts
// has a sensible default.
type Config struct {
	// Prompts maps prompt id to its current Polish text.
	Prompts map[string]string
	// Mode is ModePack (default), ModeEspeak or ModeHTTP.
	Mode string
	// PromptsDir is a folder of recordings named <id>.wav ("" = none).
	PromptsDir string
	// Voice is the espeak-ng voice (default "pl").
	Voice string
	// EspeakPath is the espeak-ng binary (default "espeak-ng", looked up
	// in PATH).
	EspeakPath string
	// EspeakRate is the speed in words per minute (default 165).
	EspeakRate int
	// HTTP configures the OpenAI-compatible TTS server of ModeHTTP.
	HTTP HTTPConfig
	// CacheSize bounds the cache of synthesized sentences, in sentences
	// (default 512; negative disables the cache).
	CacheSize int
	// Timeout bounds one TTS request (default 5 s).
	Timeout time.Duration
	// Logger receives start-up warnings and TTS fallbacks (default: discard).
	Logger *slog.Logger
}

// HTTPConfig is an OpenAI-compatible /audio/speech server.
type HTTPConfig struct {
	URL    string // base URL including /v1
	APIKey string // sent as a bearer token when set
	Model  string
	Voice  string
}

// Defaults used when Config leaves a field zero.
const (
	DefaultVoice      = "pl"
	DefaultEspeakPath = "espeak-ng"
	DefaultEspeakRate = 165
	DefaultCacheSize  = 512
	DefaultTimeout    = 5 * time.Second
)

func (c *Config) setDefaults() {
	if c.Mode == "" {
		c.Mode = ModePack
	}
	if c.Voice == "" {
		c.Voice = DefaultVoice
	}
	if c.EspeakPath == "" {
		c.EspeakPath = DefaultEspeakPath
	}
	if c.EspeakRate <= 0 {
		c.EspeakRate = DefaultEspeakRate
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
