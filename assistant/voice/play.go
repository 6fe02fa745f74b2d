package voice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

// speak plays utterances in order. A key pressed (or speech started)
// during an utterance that allows barge-in stops it and skips the rest of
// the turn that allows barge-in; the mandatory notices (NoBargeIn: AI Act
// art. 50, GDPR art. 13) still play in full, even after a caller barged
// into the greeting before them. Keys pressed meanwhile are returned as
// typed-ahead input for the next question.
func (c *call) speak(ctx context.Context, us []say.Utterance) ([]rune, error) {
	var typed []rune
	barged := false
	for _, u := range us {
		if barged && !u.NoBargeIn {
			continue
		}
		interrupted, err := c.play(ctx, u, &typed)
		if err != nil {
			return typed, err
		}
		barged = barged || interrupted
	}
	return typed, nil
}

// play plays one utterance; it reports whether the caller barged in.
func (c *call) play(ctx context.Context, u say.Utterance, typed *[]rune) (bool, error) {
	if !u.NoBargeIn && len(c.ahead)+len(*typed) > 0 {
		return true, nil // the caller has already answered
	}
	c.subtitle(u) // on the caller's screen, if the leg has one (WebRTC)
	st, err := c.h.opt.Speaker.Render(ctx, u)
	if err != nil {
		// One utterance that cannot be rendered (e.g. free text without a
		// TTS engine) must not end the call: the rest still goes out.
		c.log.Error("render failed; utterance skipped", "err", err)
		return false, nil
	}
	defer st.Close()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- c.leg.Play(pctx, st) }()
	speech := c.speech
	for {
		select {
		case err := <-done:
			return false, c.playErr(ctx, err)
		case k := <-c.keys:
			*typed = append(*typed, k)
			if !u.NoBargeIn {
				stop()
				<-done
				return true, nil
			}
		case <-speech:
			if !u.NoBargeIn {
				stop()
				<-done
				return true, nil
			}
		case <-c.leg.Done():
			stop()
			<-done
			return false, errHungUp
		}
	}
}

func (c *call) playErr(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled) && ctx.Err() == nil:
		return nil
	case c.leg.Cause() != "":
		return errHungUp
	}
	return fmt.Errorf("voice: play: %w", err)
}

// listen waits for the answer to the current question: keys until the
// question's limit, its finishing key or a pause, or a transcript, or
// silence until the question's timeout.
func (c *call) listen(ctx context.Context, exp dialogs.Expect, typed []rune) (dialogs.Input, error) {
	// Keys typed ahead answer this question first; what goes beyond its
	// answer stays for the next one (a caller who types the case number
	// and the date of birth in one go).
	c.ahead = append(c.ahead, typed...)
	keys := ""
	for len(c.ahead) > 0 {
		keys += string(c.ahead[0])
		c.ahead = c.ahead[1:]
		if in, ok := keysDone(exp, keys); ok {
			return in, nil
		}
	}
	wait := exp.Timeout
	if keys != "" {
		wait = c.h.opt.InterDigitTimeout
	}
	if wait <= 0 {
		wait = 8 * time.Second
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	transcripts := c.transcripts
	for {
		select {
		case k := <-c.keys:
			keys += string(k)
			if in, ok := keysDone(exp, keys); ok {
				return in, nil
			}
			timer.Reset(c.h.opt.InterDigitTimeout)
		case text := <-transcripts:
			if keys == "" && text != "" {
				return dialogs.Input{Kind: dialogs.InputSpeech, Text: text}, nil
			}
		case <-timer.C:
			if keys != "" {
				return dialogs.Input{Kind: dialogs.InputKeys, Keys: keys}, nil
			}
			return dialogs.Input{Kind: dialogs.InputTimeout}, nil
		case <-c.leg.Done():
			return dialogs.Input{}, errHungUp
		case <-ctx.Done():
			return dialogs.Input{}, context.Cause(ctx)
		}
	}
}

// keysDone reports whether keys complete an answer to exp.
func keysDone(exp dialogs.Expect, keys string) (dialogs.Input, bool) {
	if keys == "" {
		return dialogs.Input{}, false
	}
	max := exp.MaxDigits
	if max <= 0 {
		max = 1
	}
	finished := exp.Finish != "" && keys[len(keys)-1:] == exp.Finish
	if finished || len([]rune(keys)) >= max {
		return dialogs.Input{Kind: dialogs.InputKeys, Keys: keys}, true
	}
	return dialogs.Input{}, false
}
