package dialogs

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors the flow's dependencies return and the flow branches on.
var (
	// ErrCaseNotFound: no case with that number (never told to the caller as such).
	ErrCaseNotFound = errors.New("dialogs: case not found")
	// ErrSlotUnavailable: the callback slot is outside permitted hours or full.
	ErrSlotUnavailable = errors.New("dialogs: callback slot unavailable")
)

// Verdict is the result of one verification attempt.
type Verdict uint8

// Verdicts.
const (
	VerdictRejected Verdict = iota // wrong number/date pair, or no such case
	VerdictVerified                // the pair matches and the case is not locked
	VerdictLocked                  // the case is locked for self-service (too many failures)
)

// Verifier checks a case number and date of birth (DDMMYYYY) together. It
// counts failures per case and locks the case after too many; it must not
// distinguish "no such case" from "wrong date" in its answer.
type Verifier interface {
	Verify(ctx context.Context, callID, caseNumber, birthDate string) (Verdict, error)
}

// CaseFinder loads the case data told to a verified caller.
type CaseFinder interface {
	FindCase(ctx context.Context, number string) (Case, error)
}

// Callbacks offers and books callback slots.
type Callbacks interface {
	// Slots returns up to n next permitted slots after now.
	Slots(ctx context.Context, now time.Time, n int) ([]time.Time, error)
	// Book stores a callback at the slot, or returns ErrSlotUnavailable.
	Book(ctx context.Context, callID, caseNumber string, at time.Time) error
}

// Consultants tells whether a transfer can be offered now.
type Consultants interface {
	Available(ctx context.Context, now time.Time) bool
}

// Deps are the flow's windows on the world.
type Deps struct {
	Verifier    Verifier
	Cases       CaseFinder
	Callbacks   Callbacks
	Consultants Consultants
}
