package outbound

import (
	"errors"
	"time"

	"hotline/assistant/calendar"
)

// retryPolicy decides what follows an attempt: the dialer (Worker) and
// the consultants' hand-off (Handoff) share it, so a callback a
// consultant could not reach is retried exactly as one the assistant
// could not reach.
type retryPolicy struct {
	maxAttempts int
	backoff     []time.Duration // wait before attempt n+1; the last repeats (not empty)
	gate        *Gate
}

// next returns the job's status after attempts attempts, the last of
// which ended with o at now: StatusDone or StatusFailed (final), or
// StatusRetry with the time of the next attempt.
func (p retryPolicy) next(now time.Time, attempts int, o Outcome, window calendar.Hours) (string, time.Time) {
	switch {
	case o == OutcomeRightParty:
		return StatusDone, time.Time{}
	case attempts >= p.maxAttempts:
		return StatusFailed, time.Time{}
	}
	return StatusRetry, p.retryAt(now, attempts, window)
}

// retryAt is when to try again after the given number of attempts:
// max(now + backoff, the next instant the gate allows).
func (p retryPolicy) retryAt(now time.Time, attempts int, window calendar.Hours) time.Time {
	b := p.backoff[min(max(attempts-1, 0), len(p.backoff)-1)]
	at := now.Add(b)
	if n := p.gate.NextAllowed(at, window); !n.IsZero() {
		at = n
	}
	return at
}

// refusalPlan describes a gate refusal for the ledger and says when the job
// may be tried again: a temporary rule names its RetryAt; a permanent
// one (do-not-call) or bad data (no valid phone) gives the zero time,
// which ends the job.
func refusalPlan(err error) (rule, detail string, retryAt time.Time) {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Rule, re.Detail, re.RetryAt
	}
	return "invalid", "no valid phone or case number", time.Time{}
}
