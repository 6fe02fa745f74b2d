package assistant

import (
	"context"
	"errors"
	"fmt"

	"hotline/assistant/session"
	"hotline/dialogs"
)

// DirectionOutbound is Call.Direction of a call the assistant placed.
const DirectionOutbound = "outbound"

// StartOutbound creates the session of a call the assistant placed for
// caseNumber and plays the opening turn of the outbound dialog (greeting,
// notices, right-party check). The case number is known to the session
// as the dialog's target only: it is not verified, nothing about it is
// said, and the calls API does not show it until the callee verified.
// An empty caseNumber (a callback requested without one) makes the callee
// who passes the right-party check enter it, as inbound callers do.
// c.Direction is set to outbound whatever it was.
func (e *Engine) StartOutbound(ctx context.Context, c Call, caseNumber string) (Turn, error) {
	now := e.opt.Now()
	s := &session.Session{
		ID: c.ID, Direction: DirectionOutbound, Leg: c.Leg,
		StartedAt: now, UpdatedAt: now,
		Dialog: dialogs.NewOutbound(caseNumber),
	}
	if err := e.opt.Sessions.Create(ctx, s); err != nil {
		return Turn{}, fmt.Errorf("assistant: start outbound call: %w", err)
	}
	return e.Handle(ctx, c.ID, dialogs.Input{Kind: dialogs.InputStart, At: now})
}

// Outcome is how an outbound call's conversation went, as the contact
// ledger names it (dialogs.OutcomeRightParty, OutcomeWrongParty,
// OutcomeNoAnswer). It reads the stored session, so it works after the
// call ended; a call whose dialog has not ended yet is "no-answer" unless
// the callee already confirmed being the person called.
func (e *Engine) Outcome(ctx context.Context, callID string) (string, error) {
	s, err := e.opt.Sessions.Load(ctx, callID)
	if errors.Is(err, session.ErrNotFound) {
		return "", fmt.Errorf("%w: %s", ErrUnknownCall, callID)
	}
	if err != nil {
		return "", fmt.Errorf("assistant: outcome: %w", err)
	}
	return dialogs.Outcome(s.Dialog, dialogs.Action{Reason: terminationReason(s.Termination)}), nil
}

// terminationReason takes the flow's reason back out of a termination
// label ("bot_hung_up:wrong_party" → "wrong_party").
func terminationReason(term string) string {
	for i := len(term) - 1; i >= 0; i-- {
		if term[i] == ':' {
			return term[i+1:]
		}
	}
	return term
}
