package main

import (
	"context"
	"fmt"

	"hotline/assistant/voice"
	"hotline/telephony/sipgw"
	"hotline/telephony/speech"
	"hotline/telephony/speech/say"
	"hotline/telephony/speech/stt"
)

// speaker adapts the speech renderer to the voice handler.
type speaker struct{ r *speech.Renderer }

func (s speaker) Render(ctx context.Context, u say.Utterance) (voice.Stream, error) {
	return s.r.Render(ctx, u)
}

// newVoiceHandler builds what answers calls: the speech renderer, speech
// recognition when configured, and the conversation engine.
func (a *app) newVoiceHandler() (*voice.Handler, error) {
	r, err := speech.NewRenderer(speechConfig(a.cfg, a.prompts, a.log))
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	opt := voice.Options{
		Engine: a.engine, Speaker: speaker{r}, Logger: a.log,
		TransferTarget: a.cfg.SIP.TransferTarget,
	}
	if q := a.consultantQueue(); q != nil {
		opt.Queue = q // transfers wait for a consultant in the console (console.go)
	}
	if sc := a.cfg.Speech.STT; sc.URL != "" {
		client := &stt.Client{BaseURL: sc.URL, APIKey: sc.APIKey, Model: sc.Model, Prompt: sc.Prompt, Timeout: sc.Timeout}
		vc := a.cfg.Speech.VAD
		opt.NewEars = func(ctx context.Context) (voice.Ears, error) {
			return stt.NewListener(ctx, stt.ListenerConfig{
				Transcriber: client, EndSilence: vc.EndSilence, MaxUtterance: vc.MaxSpeech, Logger: a.log,
			})
		}
		a.log.Info("speech recognition on", "stt", sc.URL)
	} else {
		a.log.Info("speech recognition off: callers use the keypad (set speech.stt.url to let them speak)")
	}
	return voice.New(opt)
}

// newSIPServer builds the SIP gateway from the configuration.
func (a *app) newSIPServer(h *voice.Handler) (*sipgw.Server, error) {
	c := a.cfg.SIP
	return sipgw.New(sipgw.Config{
		Listen: c.Listen, ContactHost: c.ContactHost,
		RTPPortMin: c.RTPPortMin, RTPPortMax: c.RTPPortMax,
		MediaTimeout: c.MediaTimeout, MediaTimeoutInitial: c.MediaTimeoutInitial,
		MaxCalls: c.MaxCalls, RingTime: c.RingTime, DrainTimeout: c.DrainTimeout,
		AuthUsername: c.AuthUsername, AuthPassword: c.AuthPassword,
		TransferMode: c.TransferMode, TransferTarget: c.TransferTarget,
		Recording: sipgw.RecordingConfig{Dir: a.cfg.Recording.Dir, Retention: a.cfg.Recording.Retention},
		Metrics:   a.metrics.telephony,
	}, h, a.log)
}
