package telephony

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Serve runs h for the life of leg, as both gateways do for each call
// they answer, then hangs the leg up and waits for it to end. ctx is the
// handler's context (the gateway cancels it, with an EndedError, as soon
// as the leg starts ending). A handler that returns nil, ErrLegClosed or
// context.Canceled ends the call with CauseBotHangup (a no-op if the leg
// has already ended: the first cause wins); one that fails or panics ends
// it with CauseFailed. A panic is logged with its stack and does not take
// the process down: one bad call must not end every other.
func Serve(ctx context.Context, h Handler, leg Leg, log *slog.Logger) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("handler panic", "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("telephony: handler panic: %v", r)
			}
		}()
		return h.ServeCall(ctx, leg)
	}()
	cause := CauseBotHangup
	if err != nil && !errors.Is(err, ErrLegClosed) && !errors.Is(err, context.Canceled) {
		log.Warn("handler failed", "error", err)
		cause = CauseFailed
	}
	// Hangup waits for the teardown; it cannot outlive it.
	_ = leg.Hangup(context.Background(), cause)
}

// EndedError is the cancellation cause of a handler's context once its
// leg starts ending (context.Cause): the leg's termination cause. It
// matches ErrLegClosed with errors.Is.
type EndedError Cause

// Error implements error.
func (e EndedError) Error() string { return "telephony: leg ended: " + string(e) }

// Is makes every EndedError match ErrLegClosed.
func (e EndedError) Is(target error) bool { return target == ErrLegClosed }
