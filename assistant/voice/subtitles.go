package voice

import (
	"hotline/assistant"
	"hotline/telephony"
	"hotline/telephony/speech/say"
)

// texter renders an utterance as text (assistant.Engine.Text): what the
// caller hears, as the subtitle they read.
type texter interface {
	Text(u say.Utterance) (string, error)
}

// subtitle shows the utterance about to be played as a subtitle on the
// caller's screen, when the leg has one (telephony.Notifier: a browser
// call) and the engine can render text. Utterances skipped by barge-in
// are never shown, so the screen matches what was said.
func (c *call) subtitle(u say.Utterance) {
	if _, ok := c.leg.(telephony.Notifier); !ok {
		return
	}
	tx, ok := c.h.opt.Engine.(texter)
	if !ok {
		return
	}
	text, err := tx.Text(u)
	if err != nil || text == "" {
		c.log.Debug("no subtitle for an utterance", "err", err)
		return
	}
	c.notify(telephony.Note{Kind: telephony.NoteSubtitle, Text: text})
}

var _ texter = (*assistant.Engine)(nil)
