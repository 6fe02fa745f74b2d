package speech

import (
	"context"
	"fmt"
	"slices"

	"hotline/telephony/audio"
)

// headroomDB is applied to TTS output before resampling: espeak-ng peaks at
// 0.995 of full scale and the anti-alias filter's ripple would clip it
// (sox warns "rate clipped"); 1 dB keeps every peak inside.
const headroomDB = -1

// converter turns engine output at any rate into 8 kHz with headroom,
// chunk by chunk, keeping the resampler's state between chunks.
type converter struct {
	rate    int
	rs      *audio.Resampler
	scratch []int16
}

func (c *converter) process(pcm []int16, rate int) ([]int16, error) {
	if c.rate == 0 {
		if rate <= 0 {
			return nil, fmt.Errorf("speech: TTS sample rate %d", rate)
		}
		c.rate = rate
		if rate != audio.Rate {
			rs, err := audio.NewResampler(rate, audio.Rate)
			if err != nil {
				return nil, fmt.Errorf("speech: resample %d Hz: %w", rate, err)
			}
			c.rs = rs
		}
	} else if rate != c.rate {
		return nil, errRateChanged
	}
	c.scratch = append(c.scratch[:0], pcm...)
	audio.Gain(c.scratch, headroomDB)
	if c.rs == nil {
		return slices.Clone(c.scratch), nil
	}
	return c.rs.Process(nil, c.scratch), nil
}

func (c *converter) flush() []int16 {
	if c.rs == nil {
		return nil
	}
	return c.rs.Flush(nil)
}

// synthesize8k synthesizes text (already normalised) with t and returns it
// at 8 kHz with 1 dB of headroom, passing each converted chunk to push as
// soon as it exists (push may be nil). Streaming engines are streamed.
func synthesize8k(ctx context.Context, t TTS, text string, push func([]int16)) ([]int16, error) {
	if text == "" {
		return nil, ErrEmptyText
	}
	var conv converter
	var all []int16
	emit := func(pcm []int16, rate int) error {
		out, err := conv.process(pcm, rate)
		if err != nil {
			return err
		}
		all = append(all, out...)
		if push != nil {
			push(out)
		}
		return nil
	}
	if st, ok := t.(StreamingTTS); ok {
		if err := st.SynthesizeStream(ctx, text, emit); err != nil {
			return nil, err
		}
	} else {
		pcm, rate, err := t.Synthesize(ctx, text)
		if err != nil {
			return nil, err
		}
		if err := emit(pcm, rate); err != nil {
			return nil, err
		}
	}
	tail := conv.flush()
	all = append(all, tail...)
	if push != nil {
		push(tail)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("speech: %s produced no audio", t.Name())
	}
	return all, nil
}

// Telephone synthesizes text with t (after Normalize) as a caller hears
// it: 8 kHz mono with 1 dB of headroom. `hotline prompts render` uses it.
func Telephone(ctx context.Context, t TTS, text string) ([]int16, error) {
	return synthesize8k(ctx, t, Normalize(text), nil)
}
