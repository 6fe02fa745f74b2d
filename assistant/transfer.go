package assistant

import (
	"context"
	"fmt"

	"hotline/assistant/session"
	"hotline/dialogs"
)

// TransferContext is what a consultant receives with a transferred call:
// who is calling about what, how far the assistant verified them, what it
// already told them, and the transcript so far.
type TransferContext struct {
	CallID      string               `json:"call_id"`
	Reason      string               `json:"reason"`
	CaseNumber  string               `json:"case_number,omitempty"` // only when verified
	Verified    bool                 `json:"verified"`
	Disclosures []dialogs.Disclosure `json:"disclosures,omitempty"`
	Transcript  []session.Line       `json:"transcript,omitempty"`
}

// TransferContext loads the full context of a call for a consultant
// (after the turn that issued the transfer was saved).
func (e *Engine) TransferContext(ctx context.Context, callID, reason string) (*TransferContext, error) {
	s, err := e.opt.Sessions.LoadFull(ctx, callID)
	if m, ok := e.mem.get(callID); IsOutage(err) && ok {
		// A transfer needs no Redis: the consultant gets what this
		// instance remembers (the transcript since the last load).
		s, err = m.s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assistant: transfer context: %w", err)
	}
	tc := &TransferContext{
		CallID:      callID,
		Reason:      reason,
		Verified:    s.Dialog.Verified,
		Disclosures: s.Disclosures,
		Transcript:  s.Transcript,
	}
	if s.Dialog.Verified {
		tc.CaseNumber = s.Dialog.CaseNumber
	}
	return tc, nil
}
