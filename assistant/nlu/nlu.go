// Package nlu turns what a caller said (a speech-to-text transcript, in
// Polish) into a dialogs.Intent: a menu request, yes/no, a case number, a
// date of birth, a callback time or a numbered choice.
//
// Two implementations share one interface: RuleNLU (keywords, number words,
// dates; offline and deterministic, the default) and LLMNLU (an
// OpenAI-compatible model through eino with a forced report_intent tool,
// falling back to the rules on any failure). Whatever produced an intent,
// its slots are validated here and re-checked by the flow; an LLM's answer
// is never trusted as is.
package nlu

import (
	"context"
	"time"

	"hotline/dialogs"
)

// Understander turns one transcript into an intent, given what the question expects.
type Understander interface {
	Understand(ctx context.Context, exp dialogs.Expect, text string, now time.Time) (dialogs.Intent, error)
}

// Intent.Source values set by this package.
const (
	SourceRules = "rules"
	SourceLLM   = "llm"
)
