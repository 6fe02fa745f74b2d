package speech

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

// Pauses between the pieces of an utterance, in samples at 8 kHz. Pack
// clips are trimmed of silence, so these set the rhythm of joined speech.
const (
	wordGap     = audio.Rate * 20 / 1000  // between the words of a value
	commaGap    = audio.Rate * 200 / 1000 // at a comma (account number groups)
	segmentGap  = audio.Rate * 120 / 1000 // between a prompt and its value
	sentenceGap = audio.Rate * 350 / 1000 // after a full stop, question or exclamation
)

// Renderer turns utterances into 8 kHz audio. It is safe for concurrent
// use by many calls.
type Renderer struct {
	cfg        Config
	log        *slog.Logger
	pack       *Pack
	tts        TTS // nil: none available (pack mode without espeak-ng)
	recordings map[string][]int16
	cache      *sentenceCache
	// packForSentences: in espeak mode, prompt-only sentences may come
	// from the pack because it was rendered with the same voice and speed.
	packForSentences bool
	report           Report
}

// Option changes how NewRenderer builds a Renderer.
type Option func(*options)

type options struct {
	pack   *Pack
	tts    TTS
	ttsSet bool
	client *http.Client
}

// WithPack replaces the embedded prompt pack.
func WithPack(p *Pack) Option { return func(o *options) { o.pack = p } }

// WithTTS replaces the engine the mode would choose (nil: no engine).
func WithTTS(t TTS) Option { return func(o *options) { o.tts, o.ttsSet = t, true } }

// WithHTTPClient sets the client of the HTTP TTS engine.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// Report says where each prompt's audio comes from, as checked at start-up.
type Report struct {
	Mode   string
	Engine string // the TTS engine's Name, "" when there is none
	// Recorded, Pack and TTS partition the prompt ids that can be spoken.
	Recorded, Pack, TTS []string
	// Unspeakable prompts have no recording, no current pack clip and no
	// TTS engine: rendering them fails with ErrNoTTS.
	Unspeakable []string
	// Stale prompts have a pack clip rendered from other text (reworded).
	Stale []string
	// MissingRecordings: PromptsDir is set but has no <id>.wav for these.
	MissingRecordings []string
	// UnknownRecordings: WAV files in PromptsDir named after no prompt id.
	UnknownRecordings []string
}

// NewRenderer loads the prompt pack and the recordings, picks the TTS
// engine of cfg.Mode, and logs what cannot be spoken as configured: one
// warning listing the prompts that fall back to TTS or lack a recording,
// and an error listing the prompts that cannot be spoken at all.
//
// In pack mode espeak-ng is optional (free text needs it); in espeak and
// http mode a missing or misconfigured engine is an error.
func NewRenderer(cfg Config, opts ...Option) (*Renderer, error) {
	cfg.setDefaults()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &Renderer{cfg: cfg, log: cfg.Logger, cache: newSentenceCache(cfg.CacheSize)}
	r.pack = o.pack
	if r.pack == nil {
		p, err := EmbeddedPack()
		if err != nil {
			return nil, err
		}
		r.pack = p
	}
	if err := r.chooseTTS(cfg, o); err != nil {
		return nil, err
	}
	if cfg.PromptsDir != "" {
		recs, unknown, err := loadRecordings(cfg.PromptsDir, cfg.Prompts)
		if err != nil {
			return nil, err
		}
		r.recordings = recs
		r.report.UnknownRecordings = unknown
	}
	r.check()
	return r, nil
}

// chooseTTS sets r.tts for the mode.
func (r *Renderer) chooseTTS(cfg Config, o options) error {
	switch cfg.Mode {
	case ModePack, ModeEspeak, ModeHTTP:
	default:
		return fmt.Errorf("speech: mode %q is not one of pack, espeak, http", cfg.Mode)
	}
	if o.ttsSet {
		r.tts = o.tts
	} else {
		switch cfg.Mode {
		case ModePack, ModeEspeak:
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			e, err := NewEspeak(ctx, cfg.EspeakPath, cfg.Voice, cfg.EspeakRate)
			if err != nil && cfg.Mode == ModeEspeak {
				return fmt.Errorf("speech.tts espeak: %w", err)
			}
			if err == nil {
				r.tts = e
			}
		case ModeHTTP:
			h, err := NewHTTPTTS(cfg.HTTP, o.client)
			if err != nil {
				return fmt.Errorf("speech.tts http: %w", err)
			}
			r.tts = h
		}
	}
	if cfg.Mode != ModePack && r.tts == nil {
		return fmt.Errorf("speech.tts %s: %w", cfg.Mode, ErrNoTTS)
	}
	info := r.pack.Info()
	r.packForSentences = cfg.Mode == ModeEspeak && info.Voice == cfg.Voice && info.Rate == cfg.EspeakRate
	return nil
}

// check fills the report and logs it.
func (r *Renderer) check() {
	rep := &r.report
	rep.Mode = r.cfg.Mode
	if r.tts != nil {
		rep.Engine = r.tts.Name()
	}
	ids := make([]string, 0, len(r.cfg.Prompts))
	for id := range r.cfg.Prompts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		text := r.cfg.Prompts[id]
		if r.recordings != nil {
			if _, ok := r.recordings[id]; ok {
				rep.Recorded = append(rep.Recorded, id)
				continue
			}
			rep.MissingRecordings = append(rep.MissingRecordings, id)
		}
		_, fresh := r.pack.FreshPrompt(id, text)
		if _, _, has := r.pack.Prompt(id); has && !fresh {
			rep.Stale = append(rep.Stale, id)
		}
		switch {
		case fresh && (r.cfg.Mode == ModePack || r.packForSentences):
			rep.Pack = append(rep.Pack, id)
		case r.tts != nil:
			rep.TTS = append(rep.TTS, id)
		default:
			rep.Unspeakable = append(rep.Unspeakable, id)
		}
	}
	var attrs []any
	if len(rep.MissingRecordings) > 0 {
		attrs = append(attrs, "missing_recordings", strings.Join(rep.MissingRecordings, ","))
	}
	if len(rep.UnknownRecordings) > 0 {
		attrs = append(attrs, "unknown_recordings", strings.Join(rep.UnknownRecordings, ","))
	}
	if r.cfg.Mode == ModePack && len(rep.TTS) > 0 {
		attrs = append(attrs, "tts_prompts", strings.Join(rep.TTS, ","), "engine", rep.Engine)
	}
	if len(attrs) > 0 {
		r.log.Warn("speech: some prompts have no recording or no current clip in the prompt pack (reworded since `hotline prompts render`?) and are synthesized with TTS", attrs...)
	}
	if len(rep.Unspeakable) > 0 {
		r.log.Error("speech: these prompts cannot be spoken: no recording, no current pack clip and no TTS engine (install espeak-ng or run `hotline prompts render`)",
			"prompts", strings.Join(rep.Unspeakable, ","))
	}
	if r.tts == nil {
		r.log.Warn("speech: espeak-ng not found: free text such as creditor names cannot be spoken (install the espeak-ng package)")
	}
	r.log.Info("speech ready", "mode", rep.Mode, "engine", rep.Engine, "recorded", len(rep.Recorded),
		"pack", len(rep.Pack), "tts", len(rep.TTS), "pack_engine", r.pack.Info().Engine)
}

// Report returns what NewRenderer found about the prompts' sources.
func (r *Renderer) Report() Report { return r.report }

// CacheStats returns the counters of the sentence cache.
func (r *Renderer) CacheStats() CacheStats { return r.cache.stats() }

// Render starts rendering u and returns its audio as a stream. Audio from
// recordings, the pack and the cache is ready at once; sentences to
// synthesize are started immediately in the background and play as they
// are produced, so the first frame does not wait for the whole sentence.
// ctx bounds the rendering (cancel it, or Close the stream, to stop).
// Errors in u (an unknown prompt, an invalid value, free text without a
// TTS engine) are returned before any audio.
func (r *Renderer) Render(ctx context.Context, u say.Utterance) (Stream, error) {
	parts, err := r.plan(u.Segments)
	if err != nil {
		return nil, err
	}
	srcs := make([]source, len(parts))
	for i, p := range parts {
		switch {
		case p.ulaw != nil:
			srcs[i] = &ulawSource{b: p.ulaw}
		case p.pcm != nil:
			srcs[i] = &pcmSource{pcm: p.pcm}
		case p.tts != "":
			srcs[i] = r.startJob(ctx, p)
		default:
			srcs[i] = &gapSource{n: p.gap}
		}
	}
	return &seqStream{srcs: srcs}, nil
}

// RenderAll renders u completely and returns its 8 kHz samples.
func (r *Renderer) RenderAll(ctx context.Context, u say.Utterance) ([]int16, error) {
	st, err := r.Render(ctx, u)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.(*seqStream).readAll()
}

// startJob synthesizes p in the background into a jobSource. When the
// engine fails before producing any audio, the same segments are spoken
// from the pack instead (a robotic sentence beats a dead line).
func (r *Renderer) startJob(ctx context.Context, p part) *jobSource {
	jctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	j := newJobSource(cancel)
	go func() {
		defer close(j.finished)
		defer cancel()
		pcm, err := synthesize8k(jctx, r.tts, Normalize(p.tts), j.push)
		if err == nil {
			r.cache.put(p.key, audio.EncodeUlaw(make([]byte, 0, len(pcm)), pcm))
			j.finish(nil)
			return
		}
		select {
		case <-j.stop: // closed by the consumer: not a failure
			j.finish(errStreamClosed)
			return
		default:
		}
		if ctx.Err() != nil {
			j.finish(ctx.Err())
			return
		}
		if j.emitted() == 0 && p.fallback != nil {
			if fb, ferr := r.planPack(p.fallback, false); ferr == nil {
				r.log.Warn("speech: TTS failed, speaking from the prompt pack instead", "engine", r.tts.Name(), "err", err)
				for _, fp := range fb {
					j.push(readyPCM(fp))
				}
				j.finish(nil)
				return
			}
		}
		r.log.Warn("speech: TTS failed", "engine", r.tts.Name(), "err", err)
		j.finish(fmt.Errorf("speech: %s: %w", r.tts.Name(), err))
	}()
	return j
}

// readyPCM returns the samples of a ready part (a clip, a recording or a pause).
func readyPCM(p part) []int16 {
	switch {
	case p.ulaw != nil:
		return audio.DecodeUlaw(make([]int16, 0, len(p.ulaw)), p.ulaw)
	case p.pcm != nil:
		return p.pcm
	default:
		return make([]int16, p.gap)
	}
}

// errRateChanged: an engine switched sample rate within one sentence.
var errRateChanged = errors.New("speech: TTS changed its sample rate mid-sentence")
