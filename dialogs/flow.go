package dialogs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors Step returns.
var (
	// ErrEnded: Step was called after the conversation ended.
	ErrEnded = errors.New("dialogs: conversation ended")
	// ErrBadInput: an input the flow cannot take (an unknown kind, a second start).
	ErrBadInput = errors.New("dialogs: bad input")
)

// Flow is the inbound conversation: a pure state machine over State. It
// holds only configuration and dependencies, so one Flow serves all calls
// concurrently.
type Flow struct {
	cfg  Config
	deps Deps
}

// New builds the flow. cfg gets its defaults and is validated; every
// dependency is required.
func New(cfg Config, deps Deps) (*Flow, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing []error
	for _, d := range []struct {
		name string
		dep  any
	}{
		{"Verifier", deps.Verifier}, {"Cases", deps.Cases},
		{"Callbacks", deps.Callbacks}, {"Consultants", deps.Consultants},
	} {
		if d.dep == nil {
			missing = append(missing, fmt.Errorf("dialogs: missing dependency %s", d.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	return &Flow{cfg: cfg, deps: deps}, nil
}

// Config returns the flow's configuration with defaults applied.
func (f *Flow) Config() Config { return f.cfg }

// Step applies one caller event to the conversation: in is what happened
// and it what the caller meant (from ParseKeys or the NLU; the zero Intent
// for timeouts and hangups). It updates *st and returns what to say and
// do. On error *st is left as it was. Errors of the dependencies are
// returned wrapped; after the end every Step returns ErrEnded.
func (f *Flow) Step(ctx context.Context, callID string, st *State, in Input, it Intent) (Reply, error) {
	if st == nil {
		return Reply{}, fmt.Errorf("%w: nil state", ErrBadInput)
	}
	reopen := st.Phase == PhaseEnded && st.TransferReason != "" && in.Kind == InputTransferFailed
	if st.Phase == PhaseEnded && !reopen {
		return Reply{}, ErrEnded
	}
	t := &turn{f: f, ctx: ctx, callID: callID, at: in.At, st: *st}
	if reopen {
		if err := t.transferFailed(); err != nil {
			return Reply{}, err
		}
	} else if err := t.dispatch(in, it); err != nil {
		return Reply{}, err
	}
	// The flow builds case data only through disclose; this second look
	// at the finished reply keeps a future slip from reaching the caller.
	if err := checkReply(&t.st, &t.reply); err != nil {
		return Reply{}, err
	}
	t.st.Awaiting = f.expect(t.st)
	t.reply.Expect = t.st.Awaiting
	if len(t.keep) > 0 {
		t.st.LastSay, t.st.LastDisclosed = t.keep, t.kept
	}
	*st = t.st
	return t.reply, nil
}

// dispatch routes the event to the current phase.
func (t *turn) dispatch(in Input, it Intent) error {
	switch in.Kind {
	case InputHangup:
		t.end(ActionHangup, ReasonCallerHangup)
		return nil
	case InputOutage:
		return t.outage()
	case InputStart:
		if t.st.Phase != PhaseStart {
			return fmt.Errorf("%w: start in phase %q", ErrBadInput, t.st.Phase)
		}
	case InputTimeout:
		it = Intent{} // whatever came along, a timeout means nothing was heard
	case InputKeys, InputSpeech:
	default:
		return fmt.Errorf("%w: input kind %s", ErrBadInput, in.Kind)
	}
	switch t.st.Phase {
	case PhaseStart:
		// Input before the greeting (the engine sends InputStart first):
		// the caller still hears the greeting and the notices.
		if t.st.Outbound {
			t.startOutbound()
			return nil
		}
		t.start()
		return nil
	case PhaseRightParty:
		return t.rightParty(it)
	case PhaseCaseNumber:
		return t.caseNumber(it)
	case PhaseBirthDate:
		return t.birthDate(it)
	case PhaseFailed:
		return t.failed(it)
	case PhaseMenu:
		return t.menu(it)
	case PhaseCallbackPick:
		return t.callbackPick(it)
	case PhaseOutage:
		return t.outageChoice(it)
	}
	return fmt.Errorf("%w: unknown phase %q", ErrBadInput, t.st.Phase)
}

// expect is the input the state's phase waits for.
func (f *Flow) expect(st State) Expect {
	e := Expect{Timeout: f.cfg.InputTimeout}
	switch st.Phase {
	case PhaseCaseNumber:
		// Room for the digits and the closing #.
		e.Kind, e.MaxDigits, e.Finish = ExpectCaseNumber, f.cfg.CaseNumberMax+1, "#"
	case PhaseBirthDate:
		// Eight keys end the entry at once; an early # ends it too.
		e.Kind, e.MaxDigits, e.Finish = ExpectBirthDate, len("DDMMYYYY"), "#"
	case PhaseMenu, PhaseOutage:
		e.Kind, e.MaxDigits = ExpectMenu, 1
	case PhaseFailed:
		e.Kind, e.MaxDigits, e.Options = ExpectChoice, 1, failedOptions
	case PhaseCallbackPick:
		e.Kind, e.MaxDigits, e.Options = ExpectSlot, 1, len(st.Slots)
	case PhaseRightParty:
		e.Kind, e.MaxDigits, e.Options = ExpectChoice, 1, rightPartyOptions
	default:
		return Expect{}
	}
	return e
}

// consultant hands the call to a consultant when one can take it, and
// otherwise says when they work and runs unavailable.
func (t *turn) consultant(reason string, unavailable func() error) error {
	if t.f.deps.Consultants.Available(t.ctx, t.at) {
		t.ask(pTransfer)
		t.end(ActionTransfer, reason)
		t.st.TransferReason = reason
		return nil
	}
	t.ask(pConsultantsUnavailable)
	return unavailable()
}

// transferFailed brings the caller back after a transfer that reached no
// consultant: a verified caller is offered a callback, anyone else is told
// when consultants work and said goodbye to.
func (t *turn) transferFailed() error {
	t.st.TransferReason = ""
	t.ask(pTransferFailed)
	if t.st.Verified {
		t.goTo(PhaseMenu) // offerSlots moves on from the menu
		return t.offerSlots()
	}
	t.ask(pConsultantsUnavailable)
	t.goodbye(ReasonTransferFail)
	return nil
}

// complaints says how to complain and where else to turn. It tells
// nothing about a case, so it needs no verification.
func (t *turn) complaints() {
	t.ask(pComplaintsHow, pComplaintsDeadline, pComplaintsChannel, pComplaintsBodies)
}

// inFuture reports whether when is a usable instant after now (a zero now,
// as in tests without a clock, accepts any instant).
func inFuture(when, now time.Time) bool {
	return !when.IsZero() && (now.IsZero() || when.After(now))
}
