package speech

import (
	"fmt"
	"slices"
	"strings"

	"hotline/telephony/speech/say"
)

// part is one planned piece of audio: ready (ulaw or pcm), a pause (gap),
// or a text to synthesize (tts) with what to say instead if that fails.
type part struct {
	ulaw     []byte
	pcm      []int16
	gap      int
	tts      string
	key      cacheKey
	fallback []say.Segment
}

func (r *Renderer) plan(segs []say.Segment) ([]part, error) {
	if r.cfg.Mode == ModePack {
		return r.planPack(segs, r.tts != nil)
	}
	return r.planSentences(segs)
}

// planPack plans segments one by one: prompts from recordings, the pack or
// TTS; values as joined word clips; free text with TTS (when useTTS).
func (r *Renderer) planPack(segs []say.Segment, useTTS bool) ([]part, error) {
	var parts []part
	prev := ""
	for i, seg := range segs {
		if i > 0 {
			parts = append(parts, part{gap: gapAfter(prev)})
		}
		fail := func(err error) ([]part, error) {
			return nil, fmt.Errorf("speech: segment %d (%s): %w", i, seg.Kind, err)
		}
		switch seg.Kind {
		case say.KindPrompt:
			text, ok := r.cfg.Prompts[seg.Prompt]
			if !ok {
				return fail(fmt.Errorf("%w %q", say.ErrUnknownPrompt, seg.Prompt))
			}
			prev = text
			if pcm, ok := r.recordings[seg.Prompt]; ok {
				parts = append(parts, part{pcm: pcm})
			} else if ulaw, ok := r.pack.FreshPrompt(seg.Prompt, text); ok {
				parts = append(parts, part{ulaw: ulaw})
			} else if useTTS {
				parts = append(parts, r.ttsPart(text))
			} else {
				return fail(fmt.Errorf("prompt %q has no recording and no current pack clip: %w", seg.Prompt, ErrNoTTS))
			}
		case say.KindText:
			prev = seg.Text
			if !useTTS {
				return fail(ErrNoTTS)
			}
			if !speakable(seg.Text) {
				continue
			}
			parts = append(parts, r.ttsPart(seg.Text))
		default:
			words, err := say.Words(seg)
			if err != nil {
				return fail(err)
			}
			prev = words
			wp, missing := r.wordParts(words)
			switch {
			case missing == "":
				parts = append(parts, wp...)
			case useTTS:
				parts = append(parts, r.ttsPart(words))
			default:
				return fail(fmt.Errorf("%w: %q", ErrMissingClip, missing))
			}
		}
	}
	return parts, nil
}

// wordParts joins the pack's word clips; missing names the first word
// without a clip.
func (r *Renderer) wordParts(words string) (parts []part, missing string) {
	for i, t := range splitWords(words) {
		if t.pause {
			parts = append(parts, part{gap: commaGap})
			continue
		}
		clip, ok := r.pack.Word(t.word)
		if !ok {
			return nil, t.word
		}
		if i > 0 && parts[len(parts)-1].gap == 0 {
			parts = append(parts, part{gap: wordGap})
		}
		parts = append(parts, part{ulaw: clip})
	}
	return parts, ""
}

// planSentences plans espeak and http mode: runs of segments between
// recorded prompts are synthesized as one sentence each (prosody), except
// runs of prompts that the pack has in the same voice.
func (r *Renderer) planSentences(segs []say.Segment) ([]part, error) {
	var parts []part
	var run []say.Segment
	prev := ""
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		defer func() { run = nil }()
		if len(parts) > 0 {
			parts = append(parts, part{gap: gapAfter(prev)})
		}
		if r.packForSentences && r.allFresh(run) {
			pp, err := r.planPack(run, false)
			if err != nil {
				return err
			}
			parts = append(parts, pp...)
			prev = r.cfg.Prompts[run[len(run)-1].Prompt]
			return nil
		}
		text, err := say.RenderText(say.Utterance{Segments: run}, r.promptText)
		if err != nil {
			return fmt.Errorf("speech: %w", err)
		}
		if !speakable(text) {
			return nil
		}
		p := r.ttsPart(text)
		p.fallback = slices.Clone(run)
		parts = append(parts, p)
		prev = text
		return nil
	}
	for _, seg := range segs {
		if seg.Kind == say.KindPrompt {
			if pcm, ok := r.recordings[seg.Prompt]; ok {
				if err := flush(); err != nil {
					return nil, err
				}
				if len(parts) > 0 {
					parts = append(parts, part{gap: gapAfter(prev)})
				}
				parts = append(parts, part{pcm: pcm})
				prev = r.cfg.Prompts[seg.Prompt]
				continue
			}
		}
		run = append(run, seg)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return parts, nil
}

func (r *Renderer) promptText(id string) (string, bool) {
	t, ok := r.cfg.Prompts[id]
	return t, ok
}

// allFresh reports whether every segment is a prompt with a current pack clip.
func (r *Renderer) allFresh(run []say.Segment) bool {
	for _, s := range run {
		if s.Kind != say.KindPrompt {
			return false
		}
		text, ok := r.cfg.Prompts[s.Prompt]
		if !ok {
			return false
		}
		if _, ok := r.pack.FreshPrompt(s.Prompt, text); !ok {
			return false
		}
	}
	return true
}

// ttsPart is text to synthesize, or its cached audio.
func (r *Renderer) ttsPart(text string) part {
	k := keyFor(r.tts.Name(), text)
	if ulaw, ok := r.cache.get(k); ok {
		return part{ulaw: ulaw}
	}
	return part{tts: text, key: k}
}

// gapAfter is the pause after a piece that ends as text does.
func gapAfter(text string) int {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return segmentGap
	case strings.ContainsAny(text[len(text)-1:], ".?!") || strings.HasSuffix(text, "…"):
		return sentenceGap
	case strings.ContainsAny(text[len(text)-1:], ",:;"):
		return commaGap
	default:
		return segmentGap
	}
}
