package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/assistant/audit"
	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/cases"
	"hotline/assistant/consultants"
	"hotline/assistant/nlu"
	"hotline/assistant/redact"
	"hotline/assistant/session"
	"hotline/assistant/verify"
	"hotline/configs"
	"hotline/dialogs"
)

// app is everything wired together from the configuration.
type app struct {
	cfg      *configs.Config
	log      *slog.Logger
	rdb      redis.UniversalClient
	book     *cases.Book
	cbs      *callbacks.Service
	sessions *session.Store
	queue    *consultants.Service // consultants' presence and queue (console.go)
	engine   *assistant.Engine
	prompts  map[string]string
	metrics  *metrics // served on /metrics by serve (metrics.go)
	// now is the service clock of what is scheduled: callbacks and the
	// outbound scheduler, gate, dialer and API (time.Now; tests move it
	// to a callback's slot).
	now func() time.Time

	closers []func() error
}

func loadConfig(path string) (*configs.Config, error) {
	cfg, err := configs.Load(path, os.LookupEnv)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// newLogger builds the root logger. Every record passes through
// redact, whichever package logged it: personal data never reaches the
// log in clear.
func newLogger(cfg *configs.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level)) // validated by configs
	opt := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(w, opt)
	if cfg.Log.Format == "json" {
		h = slog.NewJSONHandler(w, opt)
	}
	return slog.New(redact.New(h))
}

// clock reads a.now when called, so a clock set after newApp (tests)
// reaches the services built with it.
func (a *app) clock() time.Time { return a.now() }

// seed tells newApp what to load into an embedded store.
type seed struct {
	file string // a case file; "" → cfg.Cases.SeedFile, then the demo cases
}

// newApp connects to Redis (or starts the embedded store) and builds the
// services and the engine.
func newApp(ctx context.Context, cfg *configs.Config, log *slog.Logger, sd seed) (a *app, err error) {
	a = &app{cfg: cfg, log: log, metrics: newMetrics(), now: time.Now}
	built := a // the error returns below set a to nil
	defer func() {
		if err != nil {
			built.close()
		}
	}()
	caseOpt := cases.Options{CaseNumber: cases.DigitsPattern(cfg.Dialog.CaseNumberMin, cfg.Dialog.CaseNumberMax)}
	embedded := cfg.Redis.URL == ""
	if embedded {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("embedded store: %w", err)
		}
		a.closers = append(a.closers, func() error { m.Close(); return nil })
		log.Warn("using the EMBEDDED in-process store: nothing is durable, sessions, callbacks and audit are lost on exit; set redis.url (HOTLINE_REDIS_URL) for production",
			"addr", m.Addr())
		a.rdb = redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	} else {
		a.rdb, err = newRedisClient(cfg.Redis) // one server, Sentinel or Cluster (redisurl.go)
		if err != nil {
			return nil, usageError{fmt.Errorf("redis.url: %w", err)}
		}
	}
	a.closers = append(a.closers, a.rdb.Close)
	a.rdb.AddHook(a.metrics.assistant.RedisHook())
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}

	prefix := cfg.Redis.Prefix
	loc := cfg.Location()
	a.book = cases.NewBook(a.rdb, prefix, caseOpt)
	if embedded || sd.file != "" {
		if err := a.seedCases(ctx, sd, caseOpt, embedded); err != nil {
			return nil, err
		}
	}

	auditLog := audit.NewLog(a.rdb, prefix, cfg.Audit.MaxLen)
	verifier := verify.New(a.rdb, prefix, a.book, auditLog, verify.Config{
		MaxFailures: cfg.Verify.MaxFailures, Window: cfg.Verify.Window, LockFor: cfg.Verify.LockFor,
	})
	cbHours, err := calendar.ParseHours(loc, cfg.Callbacks.Hours)
	if err != nil {
		return nil, usageError{fmt.Errorf("callbacks.hours: %w", err)}
	}
	a.cbs, err = callbacks.New(a.rdb, prefix, callbacks.Config{
		Hours: cbHours, Location: loc, SlotLength: cfg.Callbacks.SlotLength, Capacity: cfg.Callbacks.Capacity,
		LeadTime: cfg.Callbacks.LeadTime, Horizon: cfg.Callbacks.Horizon, Now: a.clock,
	})
	if err != nil {
		return nil, err
	}
	conHours, err := calendar.ParseHours(loc, cfg.Consultants.Hours)
	if err != nil {
		return nil, usageError{fmt.Errorf("consultants.hours: %w", err)}
	}
	flow, err := dialogs.New(dialogs.Config{
		CaseNumberMin: cfg.Dialog.CaseNumberMin, CaseNumberMax: cfg.Dialog.CaseNumberMax,
		MaxAttempts: cfg.Dialog.MaxAttempts, MaxReprompts: cfg.Dialog.MaxReprompts,
		InputTimeout: cfg.Dialog.InputTimeout, CallbackSlots: cfg.Dialog.CallbackSlots,
		SpeechInput: cfg.SpeechInput(),
	}, dialogs.Deps{
		Verifier: a.metrics.assistant.Verifier(verifier), Cases: a.book, Callbacks: a.cbs, Consultants: a.consultantsFor(conHours),
	})
	if err != nil {
		return nil, err
	}
	var understander assistant.Understander = nlu.NewRules(loc)
	if cfg.NLU.Mode == "llm" {
		understander, err = nlu.NewLLM(ctx, nlu.LLMConfig{
			BaseURL: cfg.NLU.BaseURL, APIKey: cfg.NLU.APIKey, Model: cfg.NLU.Model, Timeout: cfg.NLU.Timeout,
		}, understander, log)
		if err != nil {
			return nil, fmt.Errorf("nlu: %w", err)
		}
	}
	prompts, err := cfg.PromptTexts()
	if err != nil {
		return nil, usageError{err}
	}
	a.prompts = prompts
	a.sessions = session.NewStore(a.rdb, prefix, cfg.Redis.SessionTTL)
	a.engine, err = assistant.New(ctx, assistant.Options{
		Flow: flow, NLU: understander, Audit: auditLog, Prompts: prompts,
		Sessions:   a.sessions,
		NLUTimeout: cfg.NLU.Timeout, Logger: log, Observer: a.metrics.assistant,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// seedCases loads the case file (or, for the embedded store, the demo
// cases) into the book.
func (a *app) seedCases(ctx context.Context, sd seed, opt cases.Options, embedded bool) error {
	file := sd.file
	if file == "" {
		file = a.cfg.Cases.SeedFile
	}
	var list []cases.Case
	var err error
	switch {
	case file != "":
		list, err = cases.ParseFile(file, opt)
	case embedded:
		list, err = cases.ParseYAML("demo-cases.yaml", bytes.NewReader(configs.DemoCases()), opt)
		file = "built-in demo cases"
	}
	if err != nil {
		return usageError{err}
	}
	if err := a.book.Import(ctx, list); err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	a.log.Info("cases loaded", "source", file, "count", len(list))
	return nil
}

func (a *app) close() {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		a.log.Warn("shutdown", "err", err)
	}
}

// newCallID returns a random call id.
func newCallID(kind string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return kind + "-" + strings.ToLower(hex.EncodeToString(b[:]))
}
