// Package assistant is the conversation engine and its domain services
// (sub-packages). The Engine hosts one turn at a time for any call: it
// loads the call's session from Redis, runs the eino turn graph
// (understand → policy → act), re-checks privacy, saves the session with
// compare-and-set, audits disclosures, and hands the reply and action back
// to whoever carries the call (chat mode now, SIP and WebRTC later).
package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudwego/eino/compose"

	"hotline/assistant/session"
	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

// Errors callers branch on.
var (
	// ErrUnknownCall: no session for the call id (never started, or expired).
	ErrUnknownCall = errors.New("assistant: unknown call")
	// ErrCallEnded: the call's conversation is over.
	ErrCallEnded = errors.New("assistant: call already ended")
	// ErrConflict: another instance advanced the call first; this turn was not applied.
	ErrConflict = errors.New("assistant: concurrent turn on the same call")
	// ErrPrivacy: a reply would disclose case data on an unverified call; it was withheld.
	ErrPrivacy = errors.New("assistant: disclosure without verification withheld")
)

// Understander turns a transcript into an intent (assistant/nlu).
type Understander interface {
	Understand(ctx context.Context, exp dialogs.Expect, text string, now time.Time) (dialogs.Intent, error)
}

// SessionStore keeps call sessions (assistant/session).
type SessionStore interface {
	Create(ctx context.Context, s *session.Session) error
	Load(ctx context.Context, id string) (*session.Session, error)
	LoadFull(ctx context.Context, id string) (*session.Session, error)
	Save(ctx context.Context, s *session.Session) error
}

// Auditor records what was disclosed on which call (assistant/audit).
type Auditor interface {
	Disclosures(ctx context.Context, callID string, ds []dialogs.Disclosure, spoken string) error
}

// NodeObserver receives the latency of each turn-graph node.
type NodeObserver interface {
	ObserveNode(node string, d time.Duration, err error)
}

// TurnObserver, if Options.Observer also implements it, receives every
// turn Handle applied (assistant/telemetry counts transfers from it).
type TurnObserver interface {
	ObserveTurn(t Turn)
}

// Options configure an Engine.
type Options struct {
	Flow     *dialogs.Flow
	NLU      Understander
	Sessions SessionStore
	Audit    Auditor
	// Prompts maps prompt ids to text; used for transcripts and chat mode.
	Prompts map[string]string
	// NLUTimeout bounds one Understand call.
	NLUTimeout time.Duration
	Logger     *slog.Logger
	Observer   NodeObserver     // optional
	Now        func() time.Time // optional, for tests
}

// Engine runs turns. It is safe for concurrent use by many calls.
type Engine struct {
	opt   Options
	graph compose.Runnable[*turn, *turn]
	cbs   compose.Option
	log   *slog.Logger
	mem   memory // last good sessions of live calls (outage.go)
}

// New compiles the turn graph once; the Engine shares it across calls.
func New(ctx context.Context, opt Options) (*Engine, error) {
	if opt.Flow == nil || opt.NLU == nil || opt.Sessions == nil || opt.Audit == nil || opt.Prompts == nil {
		return nil, errors.New("assistant: Flow, NLU, Sessions, Audit and Prompts are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.NLUTimeout <= 0 {
		opt.NLUTimeout = 3 * time.Second
	}
	e := &Engine{opt: opt, log: opt.Logger}
	g, err := e.compile(ctx)
	if err != nil {
		return nil, fmt.Errorf("assistant: compile turn graph: %w", err)
	}
	e.graph = g
	e.cbs = compose.WithCallbacks(latencyHandler(opt.Observer))
	return e, nil
}

// Call describes a new call to Start.
type Call struct {
	ID        string
	Direction string // "inbound" | "outbound"
	Leg       string // "chat" | "sip" | "webrtc"
}

// Turn is what one turn produced, ready to be spoken and acted on.
type Turn struct {
	Reply dialogs.Reply
	// Lines are the reply's utterances as Polish text, one per utterance.
	Lines []string
	// Transfer is set when Reply.Action is a transfer: the context the
	// consultant sees.
	Transfer *TransferContext
	// Ended reports that the conversation is over after this turn.
	Ended bool
}

// Start creates the call's session and plays the opening turn.
func (e *Engine) Start(ctx context.Context, c Call) (Turn, error) {
	now := e.opt.Now()
	s := &session.Session{
		ID: c.ID, Direction: c.Direction, Leg: c.Leg,
		StartedAt: now, UpdatedAt: now,
	}
	if err := e.opt.Sessions.Create(ctx, s); err != nil {
		return Turn{}, fmt.Errorf("assistant: start call: %w", err)
	}
	return e.Handle(ctx, c.ID, dialogs.Input{Kind: dialogs.InputStart, At: now})
}

// Handle applies one caller input to the call: load, run the graph, save
// with compare-and-set, audit. If another instance saved the call in the
// meantime, nothing is applied and ErrConflict is returned.
func (e *Engine) Handle(ctx context.Context, callID string, in dialogs.Input) (Turn, error) {
	defer e.mem.share(callID)() // kept apart from a flush of the call's dirty copy (outage.go)
	if in.At.IsZero() {
		in.At = e.opt.Now()
	}
	s, err := e.load(ctx, callID)
	if errors.Is(err, session.ErrNotFound) {
		return Turn{}, fmt.Errorf("%w: %s", ErrUnknownCall, callID)
	}
	if err != nil {
		return Turn{}, fmt.Errorf("assistant: load session: %w", err)
	}
	if !s.EndedAt.IsZero() {
		return Turn{}, ErrCallEnded
	}
	t := &turn{callID: callID, state: s.Dialog, input: in}
	out, err := e.graph.Invoke(ctx, t, e.cbs)
	if err != nil && IsOutage(err) {
		out, err = e.outageTurn(ctx, t, err)
	}
	if err != nil {
		if errors.Is(err, dialogs.ErrEnded) {
			return Turn{}, ErrCallEnded
		}
		return Turn{}, fmt.Errorf("assistant: turn: %w", err)
	}
	// Privacy re-check outside the flow: a disclosure needs a verified
	// state for the same case, whatever the flow computed.
	if err := checkDisclosures(out); err != nil {
		e.log.Error("reply withheld", "call_id", callID, "err", err)
		return Turn{}, err
	}
	e.apply(s, out)
	if err := e.save(ctx, s); err != nil {
		if errors.Is(err, session.ErrConflict) {
			return Turn{}, fmt.Errorf("%w: %s", ErrConflict, callID)
		}
		return Turn{}, fmt.Errorf("assistant: save session: %w", err)
	}
	if len(out.reply.Disclosures) > 0 {
		// Fail closed: what could not be audited is not spoken.
		if err := e.opt.Audit.Disclosures(ctx, callID, out.reply.Disclosures, strings.Join(out.lines, " ")); err != nil {
			return Turn{}, fmt.Errorf("assistant: audit disclosures: %w", err)
		}
	}
	if out.transfer != nil {
		tc, err := e.TransferContext(ctx, callID, out.transfer.Reason)
		if err != nil {
			return Turn{}, err
		}
		out.transfer = tc
	}
	e.log.Debug("turn", "call_id", callID, "input", in.Kind.String(), "phase", string(out.state.Phase),
		"intent", string(out.intent.Kind), "action", string(out.reply.Action.Kind), "version", s.Version)
	res := Turn{Reply: out.reply, Lines: out.lines, Transfer: out.transfer, Ended: out.state.Phase == dialogs.PhaseEnded}
	if o, ok := e.opt.Observer.(TurnObserver); ok {
		o.ObserveTurn(res)
	}
	return res, nil
}

// Text renders one utterance as Polish text with the engine's prompts.
func (e *Engine) Text(u say.Utterance) (string, error) {
	return say.RenderText(u, func(id string) (string, bool) { t, ok := e.opt.Prompts[id]; return t, ok })
}

func checkDisclosures(t *turn) error {
	for _, d := range t.reply.Disclosures {
		if !t.state.Verified || t.state.CaseNumber == "" || d.CaseNumber != t.state.CaseNumber {
			return fmt.Errorf("%w: %s", ErrPrivacy, d.Kind)
		}
	}
	if !t.state.Verified {
		for _, u := range t.reply.Say {
			for _, seg := range u.Segments {
				switch seg.Kind {
				case say.KindAmount, say.KindDate, say.KindTime, say.KindAccount, say.KindText:
					return fmt.Errorf("%w: %s segment before verification", ErrPrivacy, seg.Kind)
				}
			}
		}
	}
	return nil
}

// apply folds a finished turn into the session.
func (e *Engine) apply(s *session.Session, t *turn) {
	now := t.input.At
	s.Dialog = t.state
	s.UpdatedAt = now
	if line, ok := callerLine(t); ok {
		s.Append(session.Line{At: now, Who: session.WhoCaller, Text: line})
	}
	for _, l := range t.lines {
		s.Append(session.Line{At: now, Who: session.WhoBot, Text: l})
	}
	s.Disclosures = append(s.Disclosures, t.reply.Disclosures...)
	switch {
	case t.state.Phase != dialogs.PhaseEnded:
		s.Termination = "" // a failed transfer reopened the conversation
	case t.reply.Action.Kind == dialogs.ActionTransfer:
		// The call goes on with a consultant; it ends when telephony
		// reports the transfer's outcome (Finish, or InputTransferFailed).
		s.Termination = termination(t)
	default:
		s.EndedAt = now
		s.Termination = termination(t)
	}
}

func termination(t *turn) string {
	switch a := t.reply.Action; a.Kind {
	case dialogs.ActionTransfer:
		return "transferred:" + a.Reason
	case dialogs.ActionHangup:
		if a.Reason == "caller_hangup" {
			return "caller_hung_up"
		}
		return "bot_hung_up:" + a.Reason
	}
	return "ended"
}

// Finish records the end of a call on the telephony side (the caller
// hung up, media timed out, the transfer completed …): the flow hears a
// hangup if it was still talking, and the session ends with cause. A call
// the flow had already ended (a goodbye) keeps its own termination; a
// transferred call keeps "transferred:<reason>".
func (e *Engine) Finish(ctx context.Context, callID, cause string) error {
	_, err := e.Handle(ctx, callID, dialogs.Input{Kind: dialogs.InputHangup, At: e.opt.Now()})
	heard := err == nil
	if err != nil && !errors.Is(err, ErrCallEnded) {
		return err
	}
	defer e.mem.share(callID)()
	s, err := e.load(ctx, callID)
	if err != nil {
		return fmt.Errorf("assistant: finish: %w", err)
	}
	switch {
	case heard:
		s.Termination = cause // more precise than the flow's "caller hung up"
	case !s.EndedAt.IsZero():
		return nil
	default:
		s.EndedAt = e.opt.Now()
		if s.Termination == "" {
			s.Termination = cause
		}
	}
	if err := e.save(ctx, s); err != nil {
		return fmt.Errorf("assistant: finish: %w", err)
	}
	return nil
}
