// Package chat lets a person (or a script) talk to the assistant in a
// terminal exactly as a caller would on the phone, without audio: each
// input line is keypad keys (only 0-9*#) or a transcript (anything
// else); an empty line is silence (the question's timeout). Each bot
// utterance is printed on its own line as "bot: …" with amounts and dates
// in words, each action in brackets: [transfer …], [callback …], [hangup …].
package chat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"hotline/assistant"
	"hotline/dialogs"
)

// Engine is what chat needs of the assistant.
type Engine interface {
	Start(ctx context.Context, c assistant.Call) (assistant.Turn, error)
	Handle(ctx context.Context, callID string, in dialogs.Input) (assistant.Turn, error)
	Finish(ctx context.Context, callID, cause string) error
}

var _ Engine = (*assistant.Engine)(nil)

// Session is one terminal conversation.
type Session struct {
	Engine   Engine
	CallID   string
	Location *time.Location // for printing callback times
	Now      func() time.Time
}

// Run plays the conversation until it ends (nil), the input ends (the
// caller "hangs up"; nil), or an error occurs.
func (s *Session) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	t, err := s.Engine.Start(ctx, assistant.Call{ID: s.CallID, Direction: "inbound", Leg: "chat"})
	if err != nil {
		return err
	}
	if s.print(w, t) {
		return w.Flush()
	}
	if err := w.Flush(); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		input := ParseLine(sc.Text())
		input.At = now()
		t, err := s.Engine.Handle(ctx, s.CallID, input)
		if err != nil {
			return err
		}
		ended := s.print(w, t)
		if err := w.Flush(); err != nil {
			return err
		}
		if ended {
			// In the terminal a transfer always "succeeds": the
			// conversation with the assistant is over.
			return s.Engine.Finish(ctx, s.CallID, "chat_ended")
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("chat: read input: %w", err)
	}
	// End of input: the caller hung up.
	_, err = s.Engine.Handle(ctx, s.CallID, dialogs.Input{Kind: dialogs.InputHangup, At: now()})
	if errors.Is(err, assistant.ErrCallEnded) {
		return nil
	}
	return err
}

// ParseLine classifies one input line.
func ParseLine(line string) dialogs.Input {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return dialogs.Input{Kind: dialogs.InputTimeout}
	case strings.Trim(line, "0123456789*#") == "":
		return dialogs.Input{Kind: dialogs.InputKeys, Keys: line}
	default:
		return dialogs.Input{Kind: dialogs.InputSpeech, Text: line}
	}
}

// print writes a turn and reports whether the conversation ended.
func (s *Session) print(w io.Writer, t assistant.Turn) bool {
	for _, l := range t.Lines {
		fmt.Fprintf(w, "bot: %s\n", l)
	}
	if cb := t.Reply.Callback; cb != nil {
		loc := s.Location
		if loc == nil {
			loc = time.UTC
		}
		fmt.Fprintf(w, "[callback %s case=%s]\n", cb.At.In(loc).Format("2006-01-02 15:04 MST"), cb.CaseNumber)
	}
	switch a := t.Reply.Action; a.Kind {
	case dialogs.ActionTransfer:
		verified := "nie"
		caseNo := "-"
		if tc := t.Transfer; tc != nil && tc.Verified {
			verified, caseNo = "tak", tc.CaseNumber
		}
		disclosed := 0
		if t.Transfer != nil {
			disclosed = len(t.Transfer.Disclosures)
		}
		fmt.Fprintf(w, "[transfer reason=%s case=%s verified=%s disclosures=%d]\n", a.Reason, caseNo, verified, disclosed)
	case dialogs.ActionHangup:
		fmt.Fprintf(w, "[hangup reason=%s]\n", a.Reason)
	}
	return t.Ended
}
