package voice

import (
	"context"
	"errors"
	"fmt"

	"hotline/assistant"
	"hotline/assistant/outbound"
	"hotline/dialogs"
	"hotline/telephony"
)

// ErrNoOutbound: the Handler's Engine cannot start outbound calls.
var ErrNoOutbound = errors.New("voice: engine cannot start outbound calls")

// OutboundEngine is what RunOutbound needs beyond Engine
// (assistant.Engine has both).
type OutboundEngine interface {
	StartOutbound(ctx context.Context, c assistant.Call, caseNumber string) (assistant.Turn, error)
	Outcome(ctx context.Context, callID string) (string, error)
}

var (
	_ OutboundEngine  = (*assistant.Engine)(nil)
	_ outbound.Runner = (*Handler)(nil)
)

// RunOutbound runs the conversation of an answered outbound leg placed
// for job (a callback or a campaign attempt), like ServeCall but opening
// with the outbound dialog: the right-party check before anything, then
// verification against job.CaseNumber (or, without one, the case number
// asked as on an inbound call). It reports the contact-ledger outcome:
// answered-right-party once the callee confirmed being the person
// called; wrong-party when they said they are not; no-answer for silence
// (a voicemail), an absent person or a hangup before the answer; failed
// when the conversation could not run.
func (h *Handler) RunOutbound(ctx context.Context, leg telephony.Leg, job outbound.Job) (outbound.Outcome, error) {
	eng, ok := h.opt.Engine.(OutboundEngine)
	if !ok {
		_ = leg.Hangup(context.WithoutCancel(ctx), telephony.CauseFailed)
		return outbound.OutcomeFailed, ErrNoOutbound
	}
	info := leg.Info()
	started := false
	err := h.serve(ctx, leg, func(ctx context.Context) (assistant.Turn, error) {
		t, err := eng.StartOutbound(ctx, assistant.Call{ID: info.ID, Direction: assistant.DirectionOutbound, Leg: info.Type}, job.CaseNumber)
		started = err == nil
		return t, err
	})
	if !started {
		return outbound.OutcomeFailed, err
	}
	o, oerr := eng.Outcome(context.WithoutCancel(ctx), info.ID)
	if oerr != nil {
		return outbound.OutcomeFailed, errors.Join(err, fmt.Errorf("voice: outbound outcome: %w", oerr))
	}
	return ledgerOutcome(o), err
}

// ledgerOutcome maps the dialog's outcome to the ledger's.
func ledgerOutcome(o string) outbound.Outcome {
	switch o {
	case dialogs.OutcomeRightParty:
		return outbound.OutcomeRightParty
	case dialogs.OutcomeWrongParty:
		return outbound.OutcomeWrongParty
	case dialogs.OutcomeNoAnswer:
		return outbound.OutcomeNoAnswer
	}
	return outbound.OutcomeFailed
}
