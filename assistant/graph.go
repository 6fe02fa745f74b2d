package assistant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/compose"

	"hotline/dialogs"
)

// turn flows through the graph's nodes; each node fills its part.
type turn struct {
	callID string
	input  dialogs.Input
	// expect is what the state waited for when the input arrived (for
	// transcript masking and NLU).
	expect   dialogs.Expect
	state    dialogs.State
	intent   dialogs.Intent
	reply    dialogs.Reply
	lines    []string
	transfer *TransferContext
}

// Graph node keys; they also name the latency observations.
const (
	nodeUnderstand = "understand"
	nodePolicy     = "policy"
	nodeAct        = "act"
)

// compile builds the per-turn graph: understand → policy → act. It holds
// no per-call state (that is the session), so one compiled Runnable
// serves every call concurrently.
func (e *Engine) compile(ctx context.Context) (compose.Runnable[*turn, *turn], error) {
	g := compose.NewGraph[*turn, *turn]()
	nodes := []struct {
		key string
		fn  func(context.Context, *turn) (*turn, error)
	}{
		{nodeUnderstand, e.understand},
		{nodePolicy, e.policy},
		{nodeAct, e.act},
	}
	prev := compose.START
	for _, n := range nodes {
		if err := g.AddLambdaNode(n.key, compose.InvokableLambda(n.fn), compose.WithNodeName(n.key)); err != nil {
			return nil, err
		}
		if err := g.AddEdge(prev, n.key); err != nil {
			return nil, err
		}
		prev = n.key
	}
	if err := g.AddEdge(prev, compose.END); err != nil {
		return nil, err
	}
	return g.Compile(ctx, compose.WithGraphName("turn"))
}

// understand turns the raw input into an intent: keypad keys are parsed
// deterministically for the question being asked; speech goes to the NLU
// with a timeout, and an NLU failure is "not understood", never a guess.
func (e *Engine) understand(ctx context.Context, t *turn) (*turn, error) {
	t.expect = t.state.Expect()
	switch t.input.Kind {
	case dialogs.InputKeys:
		t.intent = dialogs.ParseKeys(t.expect, t.input.Keys)
		t.intent.Source = "keys"
	case dialogs.InputSpeech:
		nctx, cancel := context.WithTimeout(ctx, e.opt.NLUTimeout)
		defer cancel()
		it, err := e.opt.NLU.Understand(nctx, t.expect, t.input.Text, t.input.At)
		if err != nil {
			e.log.Warn("nlu failed; treating input as not understood", "call_id", t.callID, "err", err)
			it = dialogs.Intent{Kind: dialogs.IntentUnknown}
		}
		t.intent = it
	default:
		t.intent = dialogs.Intent{}
	}
	return t, nil
}

// policy asks the conversation flow what to do.
func (e *Engine) policy(ctx context.Context, t *turn) (*turn, error) {
	r, err := e.opt.Flow.Step(ctx, t.callID, &t.state, t.input, t.intent)
	if err != nil {
		return nil, err
	}
	t.reply = r
	return t, nil
}

// act renders the reply's text (transcript, chat, subtitles) and builds
// the transfer context when the flow hands the call to a consultant.
func (e *Engine) act(_ context.Context, t *turn) (*turn, error) {
	t.lines = make([]string, 0, len(t.reply.Say))
	for _, u := range t.reply.Say {
		s, err := e.Text(u)
		if err != nil {
			return nil, fmt.Errorf("render utterance: %w", err)
		}
		t.lines = append(t.lines, s)
	}
	if t.reply.Action.Kind == dialogs.ActionTransfer {
		t.transfer = &TransferContext{
			CallID:     t.callID,
			Reason:     t.reply.Action.Reason,
			CaseNumber: t.state.CaseNumber,
			Verified:   t.state.Verified,
		}
	}
	return t, nil
}

// callerLine is the transcript line for the caller's input. Keys typed
// while the date of birth is asked are masked: the transcript is shown
// to consultants and must not carry the second factor.
func callerLine(t *turn) (string, bool) {
	switch t.input.Kind {
	case dialogs.InputKeys:
		keys := t.input.Keys
		if t.expect.Kind == dialogs.ExpectBirthDate {
			keys = strings.Repeat("•", len(keys))
		}
		return "[klawiatura] " + keys, true
	case dialogs.InputSpeech:
		if t.expect.Kind == dialogs.ExpectBirthDate {
			return "[data urodzenia podana głosem]", true
		}
		return t.input.Text, true
	case dialogs.InputTimeout:
		return "[cisza]", true
	case dialogs.InputHangup:
		return "[rozłączenie]", true
	}
	return "", false
}

type startKey struct{}

// latencyHandler reports each graph node's duration to obs (nil: none).
func latencyHandler(obs NodeObserver) callbacks.Handler {
	return callbacks.NewHandlerBuilder().
		OnStartFn(func(ctx context.Context, _ *callbacks.RunInfo, _ callbacks.CallbackInput) context.Context {
			return context.WithValue(ctx, startKey{}, time.Now())
		}).
		OnEndFn(func(ctx context.Context, info *callbacks.RunInfo, _ callbacks.CallbackOutput) context.Context {
			observe(ctx, obs, info, nil)
			return ctx
		}).
		OnErrorFn(func(ctx context.Context, info *callbacks.RunInfo, err error) context.Context {
			observe(ctx, obs, info, err)
			return ctx
		}).Build()
}

func observe(ctx context.Context, obs NodeObserver, info *callbacks.RunInfo, err error) {
	if obs == nil || info == nil {
		return
	}
	t0, ok := ctx.Value(startKey{}).(time.Time)
	if !ok {
		return
	}
	name := info.Name
	if name == "" {
		name = string(info.Component)
	}
	obs.ObserveNode(name, time.Since(t0), err)
}
