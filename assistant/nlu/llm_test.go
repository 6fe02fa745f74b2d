package nlu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/schema"
	"go.uber.org/goleak"

	"hotline/dialogs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "sk-test"

// fakeOpenAI is an OpenAI-compatible chat completions server on 127.0.0.1.
type fakeOpenAI struct {
	srv *httptest.Server

	mu   sync.Mutex
	reqs []capturedRequest
}

type capturedRequest struct {
	method, path, auth string
	body               map[string]any
}

// newFakeOpenAI starts a server whose handler answers each request with
// reply(w); it records every request first.
func newFakeOpenAI(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *fakeOpenAI {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	f := &fakeOpenAI{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, capturedRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), body})
		f.mu.Unlock()
		reply(w, r)
	}))
	_ = f.srv.Listener.Close()
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) requests() []capturedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]capturedRequest(nil), f.reqs...)
}

// toolCallReply answers with one report_intent call carrying args.
func toolCallReply(name, args string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		resp := map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
			"choices": []any{map[string]any{
				"index": 0, "finish_reason": "tool_calls",
				"message": map[string]any{"role": "assistant", "content": "",
					"tool_calls": []any{map[string]any{"id": "call_1", "type": "function",
						"function": map[string]any{"name": name, "arguments": args}}}},
			}},
			"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}
}

// textReply answers with plain content and no tool call.
func textReply(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"saldo"}}]}`)
}

// spyFallback counts calls and answers like the rules.
type spyFallback struct {
	calls atomic.Int32
	rules *RuleNLU
}

func (s *spyFallback) Understand(ctx context.Context, exp dialogs.Expect, text string, now time.Time) (dialogs.Intent, error) {
	s.calls.Add(1)
	return s.rules.Understand(ctx, exp, text, now)
}

// syncBuffer is a log sink safe for the server and client goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestLLM wires an LLMNLU to the fake server with its own transport,
// closed at cleanup so no connection goroutines outlive the test.
func newTestLLM(t *testing.T, f *fakeOpenAI, timeout time.Duration) (*LLMNLU, *spyFallback, *syncBuffer) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	loc := warsaw(t)
	spy := &spyFallback{rules: NewRules(loc)}
	logs := &syncBuffer{}
	l, err := NewLLM(context.Background(), LLMConfig{
		BaseURL: f.srv.URL + "/v1", APIKey: testKey, Model: "test-model",
		Timeout: timeout, HTTPClient: &http.Client{Transport: tr}, Location: loc,
	}, spy, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("NewLLM: %v", err)
	}
	return l, spy, logs
}

func TestLLMRequestAndGoodAnswer(t *testing.T) {
	f := newFakeOpenAI(t, toolCallReply(ReportIntentTool, `{"intent":"digits","digits":"12345678"}`))
	if ip := f.srv.Listener.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Fatalf("fake server on %v, want 127.0.0.1", ip)
	}
	l, spy, _ := newTestLLM(t, f, 5*time.Second)
	text := "mój numer to jeden dwa trzy cztery pięć sześć siedem osiem"
	got, err := l.Understand(context.Background(), expCase, text, testNow(t))
	if err != nil {
		t.Fatalf("Understand: %v", err)
	}
	if want := (dialogs.Intent{Kind: dialogs.IntentDigits, Digits: "12345678", Source: SourceLLM}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if n := spy.calls.Load(); n != 0 {
		t.Errorf("fallback called %d times on a good answer", n)
	}

	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/v1/chat/completions" {
		t.Errorf("request %s %s, want POST /v1/chat/completions", r.method, r.path)
	}
	if r.auth != "Bearer "+testKey {
		t.Errorf("Authorization %q, want Bearer key", r.auth)
	}
	if r.body["model"] != "test-model" {
		t.Errorf("model %v", r.body["model"])
	}
	if temp, ok := r.body["temperature"]; !ok || temp != 0.0 {
		t.Errorf("temperature %v (present %v), want 0", temp, ok)
	}
	tc, _ := json.Marshal(r.body["tool_choice"])
	if string(tc) != `{"function":{"name":"report_intent"},"type":"function"}` {
		t.Errorf("tool_choice %s, want forced report_intent", tc)
	}
	tools, _ := r.body["tools"].([]any)
	if len(tools) != 1 {
		t.Fatalf("tools %v, want one", r.body["tools"])
	}
	fn := tools[0].(map[string]any)["function"].(map[string]any)
	if fn["name"] != ReportIntentTool {
		t.Errorf("tool name %v", fn["name"])
	}
	params, _ := json.Marshal(fn["parameters"])
	for _, want := range []string{`"intent"`, `"digits"`, `"date"`, `"when"`, `"choice"`, `"required":["intent"]`, `"consultant"`} {
		if !strings.Contains(string(params), want) {
			t.Errorf("tool parameters %s lack %s", params, want)
		}
	}
	msgs, _ := r.body["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages %v, want system + user", msgs)
	}
	sys := msgs[0].(map[string]any)
	if sys["role"] != "system" || !strings.Contains(sys["content"].(string), "wtorek, 2026-11-24") ||
		!strings.Contains(sys["content"].(string), "numer akt sprawy") {
		t.Errorf("system prompt %v lacks today's date or the expected answer", sys["content"])
	}
	if user := msgs[1].(map[string]any); user["role"] != "user" || user["content"] != text {
		t.Errorf("user message %v", user)
	}
}

func TestLLMAnswers(t *testing.T) {
	loc := warsaw(t)
	now := testNow(t)
	tests := []struct {
		name string
		exp  dialogs.Expect
		args string
		want dialogs.Intent // Source llm
	}{
		{"menu", expMenu, `{"intent":"payments"}`, dialogs.Intent{Kind: dialogs.IntentPayments}},
		{"date", expDOB, `{"intent":"date","date":"1980-01-02"}`,
			dialogs.Intent{Kind: dialogs.IntentDate, Date: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC)}},
		{"slot", expSlot3, `{"intent":"slot","when":"2026-11-25T15:00"}`,
			dialogs.Intent{Kind: dialogs.IntentSlot, When: time.Date(2026, 11, 25, 15, 0, 0, 0, loc)}},
		{"choice", expSlot3, `{"intent":"choice","choice":2}`, dialogs.Intent{Kind: dialogs.IntentChoice, Choice: 2}},
		{"extra slots dropped", expMenu, `{"intent":"debt","digits":"99","choice":3}`, dialogs.Intent{Kind: dialogs.IntentDebt}},
		{"unknown", expMenu, `{"intent":"unknown"}`, dialogs.Intent{Kind: dialogs.IntentUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOpenAI(t, toolCallReply(ReportIntentTool, tt.args))
			l, spy, _ := newTestLLM(t, f, 5*time.Second)
			got, err := l.Understand(context.Background(), tt.exp, "cokolwiek", now)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Source = SourceLLM
			if !sameIntent(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if spy.calls.Load() != 0 {
				t.Error("fallback used for a valid answer")
			}
		})
	}
}

func TestLLMFallsBackToRules(t *testing.T) {
	now := testNow(t)
	const text = "jeden dwa trzy cztery"
	tests := []struct {
		name   string
		exp    dialogs.Expect
		reply  func(http.ResponseWriter, *http.Request)
		reason string
	}{
		{"server 500", expCase, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":{"message":"boom"}}`, http.StatusInternalServerError)
		}, "request_failed"},
		{"garbage digits", expCase, toolCallReply(ReportIntentTool, `{"intent":"digits","digits":"12a4"}`), "invalid_slot"},
		{"empty digits", expCase, toolCallReply(ReportIntentTool, `{"intent":"digits"}`), "invalid_slot"},
		{"intent outside enum", expCase, toolCallReply(ReportIntentTool, `{"intent":"transfer_money"}`), "invalid_slot"},
		{"bad JSON", expCase, toolCallReply(ReportIntentTool, `{"intent":`), "bad_arguments"},
		{"wrong type", expCase, toolCallReply(ReportIntentTool, `{"intent":"choice","choice":"two"}`), "bad_arguments"},
		{"no tool call", expCase, textReply, "no_tool_call"},
		{"other tool", expCase, toolCallReply("transfer", `{"intent":"digits","digits":"1234"}`), "no_tool_call"},
		{"impossible date", expDOB, toolCallReply(ReportIntentTool, `{"intent":"date","date":"1980-02-30"}`), "invalid_slot"},
		{"future birth date", expDOB, toolCallReply(ReportIntentTool, `{"intent":"date","date":"2030-01-01"}`), "invalid_slot"},
		{"slot in the past", expSlot3, toolCallReply(ReportIntentTool, `{"intent":"slot","when":"2026-11-24T09:00"}`), "invalid_slot"},
		{"slot with zone", expSlot3, toolCallReply(ReportIntentTool, `{"intent":"slot","when":"2026-11-25T15:00+01:00"}`), "invalid_slot"},
		{"choice not offered", expSlot3, toolCallReply(ReportIntentTool, `{"intent":"choice","choice":4}`), "invalid_slot"},
		{"choice in menu", expMenu, toolCallReply(ReportIntentTool, `{"intent":"choice","choice":1}`), "invalid_slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOpenAI(t, tt.reply)
			l, spy, logs := newTestLLM(t, f, 5*time.Second)
			got, err := l.Understand(context.Background(), tt.exp, text, now)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := NewRules(warsaw(t)).Understand(context.Background(), tt.exp, text, now)
			if !sameIntent(got, want) || got.Source != SourceRules {
				t.Errorf("got %+v, want the rules' %+v", got, want)
			}
			if spy.calls.Load() != 1 {
				t.Errorf("fallback called %d times, want 1", spy.calls.Load())
			}
			checkFallbackLog(t, logs.String(), tt.reason, text)
		})
	}
}

// sameIntent compares intents, times by instant.
func sameIntent(a, b dialogs.Intent) bool {
	return a.Kind == b.Kind && a.Digits == b.Digits && a.Date.Equal(b.Date) && a.When.Equal(b.When) &&
		a.Choice == b.Choice && a.Source == b.Source
}

// checkFallbackLog asserts one fallback line with the reason and no PII.
func checkFallbackLog(t *testing.T, logs, reason, text string) {
	t.Helper()
	t.Logf("fallback log: %s", logs)
	if !strings.Contains(logs, "reason="+reason) {
		t.Errorf("log %q lacks reason=%s", logs, reason)
	}
	for _, pii := range []string{text, "jeden", "12a4", "1234", "1980", "boom"} {
		if strings.Contains(logs, pii) {
			t.Errorf("log %q leaks %q", logs, pii)
		}
	}
}

func TestLLMTimeoutFallsBack(t *testing.T) {
	release := make(chan struct{})
	f := newFakeOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		select { // hold the answer until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	l, spy, logs := newTestLLM(t, f, 100*time.Millisecond)
	start := time.Now()
	got, err := l.Understand(context.Background(), expMenu, "saldo", testNow(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != dialogs.IntentDebt || got.Source != SourceRules {
		t.Errorf("got %+v, want rules' debt", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v with a 100ms timeout", d)
	}
	if spy.calls.Load() != 1 {
		t.Errorf("fallback calls %d", spy.calls.Load())
	}
	checkFallbackLog(t, logs.String(), "timeout", "saldo")
}

func TestLLMEmptyTranscriptSkipsModel(t *testing.T) {
	f := newFakeOpenAI(t, toolCallReply(ReportIntentTool, `{"intent":"debt"}`))
	l, spy, _ := newTestLLM(t, f, time.Second)
	got, _ := l.Understand(context.Background(), expMenu, "  ", testNow(t))
	if got.Kind != dialogs.IntentUnknown || got.Source != SourceRules || spy.calls.Load() != 1 || len(f.requests()) != 0 {
		t.Errorf("got %+v, %d requests; want rules' unknown and no request", got, len(f.requests()))
	}
}

// fakeModel is an injected model.ToolCallingChatModel.
type fakeModel struct {
	tools []*schema.ToolInfo
	opts  *model.Options
	reply *schema.Message
	err   error
}

func (m *fakeModel) Generate(_ context.Context, _ []*schema.Message, opts ...model.Option) (*schema.Message, error) {
	m.opts = model.GetCommonOptions(nil, opts...)
	return m.reply, m.err
}

func (m *fakeModel) Stream(context.Context, []*schema.Message, ...model.Option) (*schema.StreamReader[*schema.Message], error) {
	return nil, errors.New("not used")
}

func (m *fakeModel) WithTools(tools []*schema.ToolInfo) (model.ToolCallingChatModel, error) {
	m.tools = tools
	return m, nil
}

func TestNewLLMWithModel(t *testing.T) {
	fm := &fakeModel{reply: &schema.Message{Role: schema.Assistant, ToolCalls: []schema.ToolCall{{
		ID: "1", Type: "function", Function: schema.FunctionCall{Name: ReportIntentTool, Arguments: `{"intent":"goodbye"}`},
	}}}}
	l, err := NewLLMWithModel(fm, LLMConfig{Location: warsaw(t)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Understand(context.Background(), expMenu, "to wszystko", testNow(t))
	if err != nil || got.Kind != dialogs.IntentGoodbye || got.Source != SourceLLM {
		t.Fatalf("got %+v, %v", got, err)
	}
	if len(fm.tools) != 1 || fm.tools[0].Name != ReportIntentTool {
		t.Errorf("bound tools %v", fm.tools)
	}
	o := fm.opts
	if o.ToolChoice == nil || *o.ToolChoice != schema.ToolChoiceForced || len(o.AllowedToolNames) != 1 ||
		o.AllowedToolNames[0] != ReportIntentTool || o.Temperature == nil || *o.Temperature != 0 {
		t.Errorf("options %+v: want forced report_intent at temperature 0", o)
	}

	// A model error with nil fallback uses the rules.
	fm.err, fm.reply = errors.New("down"), nil
	got, _ = l.Understand(context.Background(), expMenu, "to wszystko", testNow(t))
	if got.Kind != dialogs.IntentGoodbye || got.Source != SourceRules {
		t.Errorf("fallback got %+v", got)
	}
}

func TestLLMConfigErrors(t *testing.T) {
	if _, err := NewLLM(context.Background(), LLMConfig{Model: "m"}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("missing base URL: %v", err)
	}
	if _, err := NewLLMWithModel(nil, LLMConfig{}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil model: %v", err)
	}
}

// TestToolSchemaEnum keeps the schema's enum and the accepted intents equal.
func TestToolSchemaEnum(t *testing.T) {
	info, err := ReportIntentToolInfo()
	if err != nil {
		t.Fatal(err)
	}
	js, err := info.ParamsOneOf.ToJSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	prop, ok := js.Properties.Get("intent")
	if !ok {
		t.Fatal("no intent property")
	}
	if len(prop.Enum) != len(llmIntents) {
		t.Fatalf("enum %v, want %v", prop.Enum, llmIntents)
	}
	for i, e := range prop.Enum {
		if e != string(llmIntents[i]) {
			t.Errorf("enum[%d] = %v, want %q", i, e, llmIntents[i])
		}
		if !validKinds[llmIntents[i]] {
			t.Errorf("%q is not an intent", llmIntents[i])
		}
	}
}

func TestHTTPStatus(t *testing.T) {
	if got := httpStatus(errors.New("error, status code: 503, status: 503 Service Unavailable, message: x")); got != 503 {
		t.Errorf("httpStatus = %d", got)
	}
	if got := httpStatus(errors.New("dial tcp: refused")); got != 0 {
		t.Errorf("httpStatus = %d", got)
	}
}

// TestLLMConcurrent shares one LLMNLU between goroutines (run with -race).
func TestLLMConcurrent(t *testing.T) {
	f := newFakeOpenAI(t, toolCallReply(ReportIntentTool, `{"intent":"digits","digits":"42"}`))
	l, _, _ := newTestLLM(t, f, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	now := testNow(t)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Go(func() {
			got, err := l.Understand(ctx, expCase, "czterdzieści dwa", now)
			if err != nil || got.Digits != "42" || got.Source != SourceLLM {
				errs <- fmt.Sprintf("%+v %v", got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
