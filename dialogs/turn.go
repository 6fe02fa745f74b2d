package dialogs

import (
	"context"
	"time"

	"hotline/telephony/speech/say"
)

// turn is one Step in progress: a working copy of the state and the reply
// being built. Step commits the state only when the turn succeeds.
type turn struct {
	f      *Flow
	ctx    context.Context
	callID string
	at     time.Time
	st     State
	reply  Reply
	// keep is the part of the reply that IntentRepeat says again, and
	// kept the disclosures that part makes.
	keep []say.Utterance
	kept []DisclosureKind
}

// note says prompts once: they are not repeated by IntentRepeat (the
// cause of a re-prompt, the opening notices).
func (t *turn) note(ids ...string) {
	for _, id := range ids {
		t.reply.Say = append(t.reply.Say, say.New(say.Prompt(id)))
	}
}

// notice says a mandatory notice, played in full without barge-in.
func (t *turn) notice(id string) {
	t.reply.Say = append(t.reply.Say, say.Notice(say.Prompt(id)))
}

// ask says prompts that IntentRepeat says again.
func (t *turn) ask(ids ...string) {
	for _, id := range ids {
		t.keepSay(say.New(say.Prompt(id)))
	}
}

// keepSay says an utterance that IntentRepeat says again. It must carry
// no case data: that goes through disclose.
func (t *turn) keepSay(us ...say.Utterance) {
	t.reply.Say = append(t.reply.Say, us...)
	t.keep = append(t.keep, us...)
}

// goTo moves to phase, whose question has just been asked; a new question
// starts with no re-prompts.
func (t *turn) goTo(p Phase) {
	t.st.Phase = p
	t.st.Reprompts = 0
	if p != PhaseCallbackPick {
		t.st.Slots = nil
	}
}

// end finishes the conversation with an action for the engine.
func (t *turn) end(kind ActionKind, reason string) {
	t.goTo(PhaseEnded)
	t.st.PendingCase = ""
	t.reply.Action = Action{Kind: kind, Reason: reason}
}

// goodbye says goodbye and hangs up.
func (t *turn) goodbye(reason string) {
	t.ask(pGoodbye)
	t.end(ActionHangup, reason)
}

// retry handles a timeout or an answer that does not fit the question:
// it says why (cause), then asks again, or gives up after MaxReprompts.
func (t *turn) retry(cause string, again, giveUp func() error) error {
	t.note(cause)
	if t.st.Reprompts >= t.f.cfg.MaxReprompts {
		return giveUp()
	}
	t.st.Reprompts++
	return again()
}

// cause names what went wrong with an answer: nothing heard, speech not
// understood, or a keyed (or recognised) value that does not fit, which
// is said with badValue.
func cause(it Intent, badValue string) string {
	switch {
	case it.Kind == IntentNone:
		return pNotHeard
	case it.Source == sourceKeys, it.Kind == IntentDigits, it.Kind == IntentDate,
		it.Kind == IntentChoice, it.Kind == IntentSlot:
		return badValue
	}
	return pNotUnderstood
}

// repeat says the last reply again (without its one-off parts). Case data
// in it is disclosed again, so it passes the same check as the first time.
func (t *turn) repeat() error {
	if len(t.st.LastSay) == 0 {
		return t.again()
	}
	if len(t.st.LastDisclosed) == 0 && !anySensitive(t.st.LastSay) {
		t.keepSay(t.st.LastSay...)
		return nil
	}
	return t.disclose(t.st.LastDisclosed, t.st.LastSay...)
}

// again asks the current phase's question once more, in its short form.
func (t *turn) again() error {
	switch t.st.Phase {
	case PhaseCaseNumber:
		t.ask(t.f.worded(pCaseNumberAgain))
	case PhaseBirthDate:
		t.ask(t.f.worded(pBirthDateAgain))
	case PhaseFailed:
		t.ask(t.f.worded(pFailedOptions))
	case PhaseMenu:
		t.ask(t.f.worded(pMenu))
	case PhaseCallbackPick:
		return t.sayOffer(t.st.Slots)
	case PhaseRightParty:
		t.ask(t.f.worded(pRightPartyAgain))
	case PhaseOutage:
		t.outageOptions()
	}
	return nil
}
