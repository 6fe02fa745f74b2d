package nlu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cloudwego/eino-ext/components/model/openai"
	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/components/tool/utils"
	"github.com/cloudwego/eino/schema"

	"hotline/dialogs"
)

// ReportIntentTool is the name of the one tool the model is forced to call.
const ReportIntentTool = "report_intent"

// DefaultLLMTimeout bounds one LLM call when LLMConfig.Timeout is zero: the
// caller is waiting in silence, and the rules answer instantly.
const DefaultLLMTimeout = 3 * time.Second

// Errors of the LLM path. Understand never returns them (it falls back to
// the rules); they are wrapped into the fallback log line's reason and
// returned by the constructors.
var (
	ErrConfig       = errors.New("nlu: invalid LLM configuration")
	ErrNoToolCall   = errors.New("nlu: model did not call " + ReportIntentTool)
	ErrBadArguments = errors.New("nlu: malformed " + ReportIntentTool + " arguments")
	ErrInvalidSlot  = errors.New("nlu: invalid intent or slot from model")
)

// LLMConfig configures the LLM understander.
type LLMConfig struct {
	// BaseURL of an OpenAI-compatible API including /v1 (Ollama, vLLM,
	// llama.cpp, OpenAI); the client appends /chat/completions.
	BaseURL string
	APIKey  string
	Model   string
	// Timeout bounds one Understand call's model request (DefaultLLMTimeout if 0).
	Timeout time.Duration
	// HTTPClient is optional; the per-call Timeout applies either way.
	HTTPClient *http.Client
	// Location is the zone callback times are spoken in (Europe/Warsaw if nil).
	Location *time.Location
}

// LLMNLU understands transcripts with a chat model forced to answer through
// the report_intent tool. Its answers are validated like untrusted input;
// on any failure (timeout, HTTP error, no or malformed tool call, invalid
// slots) it logs the reason, without the transcript, and returns the
// fallback's answer. It is safe for concurrent use.
type LLMNLU struct {
	model    model.ToolCallingChatModel // with report_intent bound
	fallback Understander
	log      *slog.Logger
	timeout  time.Duration
	loc      *time.Location
}

var _ Understander = (*LLMNLU)(nil)

// reportIntentArgs is the report_intent tool's parameter schema and the
// shape its arguments are decoded into.
type reportIntentArgs struct {
	Intent string `json:"intent" jsonschema:"enum=debt,enum=payments,enum=callback,enum=complaints,enum=consultant,enum=repeat,enum=yes,enum=no,enum=goodbye,enum=digits,enum=date,enum=slot,enum=choice,enum=unknown" jsonschema_description:"Co rozmówca miał na myśli."`
	Digits string `json:"digits,omitempty" jsonschema_description:"Dla intent=digits: same cyfry 0-9, bez spacji."`
	Date   string `json:"date,omitempty" jsonschema_description:"Dla intent=date: data w formacie YYYY-MM-DD."`
	When   string `json:"when,omitempty" jsonschema_description:"Dla intent=slot: termin YYYY-MM-DDTHH:MM w czasie polskim."`
	Choice int    `json:"choice,omitempty" jsonschema_description:"Dla intent=choice: numer wybranej opcji, od 1."`
}

// llmIntents are the intents the model may report (the schema's enum).
var llmIntents = [...]dialogs.IntentKind{
	dialogs.IntentDebt, dialogs.IntentPayments, dialogs.IntentCallback, dialogs.IntentComplaints,
	dialogs.IntentConsultant, dialogs.IntentRepeat, dialogs.IntentYes, dialogs.IntentNo,
	dialogs.IntentGoodbye, dialogs.IntentDigits, dialogs.IntentDate, dialogs.IntentSlot,
	dialogs.IntentChoice, dialogs.IntentUnknown,
}

// ReportIntentToolInfo returns the report_intent tool schema.
func ReportIntentToolInfo() (*schema.ToolInfo, error) {
	return utils.GoStruct2ToolInfo[reportIntentArgs](ReportIntentTool,
		"Zgłoś intencję rozmówcy i wartości, które podał. Wywołaj zawsze dokładnie raz.")
}

// NewLLM builds an LLM understander on an OpenAI-compatible server.
// fallback answers whenever the model fails (nil: the rules).
func NewLLM(ctx context.Context, cfg LLMConfig, fallback Understander, logger *slog.Logger) (*LLMNLU, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, fmt.Errorf("%w: base URL and model are required", ErrConfig)
	}
	cm, err := openai.NewChatModel(ctx, &openai.ChatModelConfig{
		BaseURL:    cfg.BaseURL,
		APIKey:     cfg.APIKey,
		Model:      cfg.Model,
		Timeout:    timeoutOrDefault(cfg.Timeout),
		HTTPClient: cfg.HTTPClient,
	})
	if err != nil {
		return nil, fmt.Errorf("nlu: openai chat model: %w", err)
	}
	return NewLLMWithModel(cm, cfg, fallback, logger)
}

// NewLLMWithModel builds an LLM understander on any tool-calling chat
// model (tests, other providers). Only cfg's Timeout and Location are used.
func NewLLMWithModel(m model.ToolCallingChatModel, cfg LLMConfig, fallback Understander, logger *slog.Logger) (*LLMNLU, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrConfig)
	}
	loc := cfg.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/Warsaw"); err != nil {
			return nil, fmt.Errorf("%w: load Europe/Warsaw: %w", ErrConfig, err)
		}
	}
	info, err := ReportIntentToolInfo()
	if err != nil {
		return nil, fmt.Errorf("nlu: %s schema: %w", ReportIntentTool, err)
	}
	// WithTools returns a new model: the shared one is never mutated.
	tm, err := m.WithTools([]*schema.ToolInfo{info})
	if err != nil {
		return nil, fmt.Errorf("nlu: bind %s: %w", ReportIntentTool, err)
	}
	if fallback == nil {
		fallback = NewRules(loc)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LLMNLU{model: tm, fallback: fallback, log: logger, timeout: timeoutOrDefault(cfg.Timeout), loc: loc}, nil
}

func timeoutOrDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultLLMTimeout
	}
	return d
}

// Understand asks the model; on any failure it returns the fallback's
// answer. The error is the fallback's (the rules never fail).
func (l *LLMNLU) Understand(ctx context.Context, exp dialogs.Expect, text string, now time.Time) (dialogs.Intent, error) {
	if strings.TrimSpace(text) == "" {
		return l.fallback.Understand(ctx, exp, text, now) // nothing to ask a model about
	}
	start := time.Now()
	it, err := l.ask(ctx, exp, text, now.In(l.loc))
	if err == nil {
		it.Source = SourceLLM
		return it, nil
	}
	// Never log text or err's slot values: the transcript and the slots
	// are personal data (case numbers, dates of birth).
	l.log.Warn("nlu: llm failed, using fallback",
		"expect", string(exp.Kind), "reason", failureReason(err), "http_status", httpStatus(err),
		"elapsed", time.Since(start).Round(time.Millisecond))
	return l.fallback.Understand(ctx, exp, text, now)
}

// ask makes one bounded model call and validates its answer.
func (l *LLMNLU) ask(ctx context.Context, exp dialogs.Expect, text string, now time.Time) (dialogs.Intent, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	msgs := []*schema.Message{schema.SystemMessage(systemPrompt(exp, now)), schema.UserMessage(text)}
	msg, err := l.model.Generate(ctx, msgs,
		model.WithToolChoice(schema.ToolChoiceForced, ReportIntentTool),
		model.WithTemperature(0))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return dialogs.Intent{}, fmt.Errorf("nlu: generate: %w", err)
	}
	if msg == nil {
		return dialogs.Intent{}, ErrNoToolCall
	}
	for _, tc := range msg.ToolCalls {
		if tc.Function.Name == ReportIntentTool {
			return parseReport(tc.Function.Arguments, exp, now, l.loc)
		}
	}
	return dialogs.Intent{}, ErrNoToolCall
}

// failureReason classifies a failure for the log without its details.
func failureReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrNoToolCall):
		return "no_tool_call"
	case errors.Is(err, ErrBadArguments):
		return "bad_arguments"
	case errors.Is(err, ErrInvalidSlot):
		return "invalid_slot"
	}
	return "request_failed"
}

// httpStatus digs the HTTP status out of the OpenAI client's error text
// ("error, status code: 500, …"), so the log can carry it without the
// response body, which may quote the request.
func httpStatus(err error) int {
	const marker = "status code: "
	s := err.Error()
	i := strings.Index(s, marker)
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range []byte(s[i+len(marker):]) {
		if c < '0' || c > '9' || n > 999 {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
