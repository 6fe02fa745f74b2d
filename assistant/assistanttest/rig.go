// Package assistanttest wires a complete assistant engine for tests of
// the packages that drive it (engine, voice, telephony end-to-end): the
// real services on the given Redis, the demo cases, the built-in prompts
// and a fixed clock.
package assistanttest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/assistant/audit"
	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/cases"
	"hotline/assistant/consultants"
	"hotline/assistant/nlu"
	"hotline/assistant/session"
	"hotline/assistant/verify"
	"hotline/configs"
	"hotline/dialogs"
)

// Tuesday10 is 2026-11-24 10:00 in Warsaw: inside consultant and callback hours.
var Tuesday10 = time.Date(2026, 11, 24, 10, 0, 0, 0, calendar.Warsaw())

// Rig is a wired engine and the stores behind it.
type Rig struct {
	Engine   *assistant.Engine
	Sessions *session.Store
	Audit    *audit.Log
	Prompts  map[string]string
}

// Options adjust a Rig.
type Options struct {
	// Now is the engine's clock (default: Tuesday10, fixed).
	Now func() time.Time
	// WrapSessions lets a test interpose on the session store.
	WrapSessions func(*session.Store) assistant.SessionStore
	// ConsultantHours (default "mon-fri 09:00-17:00").
	ConsultantHours string
	// Observer receives the turn graph's node latencies.
	Observer assistant.NodeObserver
}

// New wires the engine the way cmd/hotline does on rdb under prefix.
func New(tb testing.TB, rdb redis.UniversalClient, prefix string, opt Options) *Rig {
	tb.Helper()
	ctx := context.Background()
	if opt.Now == nil {
		opt.Now = func() time.Time { return Tuesday10 }
	}
	if opt.ConsultantHours == "" {
		opt.ConsultantHours = "mon-fri 09:00-17:00"
	}
	cfg := configs.Default()
	book := cases.NewBook(rdb, prefix, cases.Options{})
	list, err := cases.ParseYAML("demo-cases.yaml", bytes.NewReader(configs.DemoCases()), cases.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := book.Import(ctx, list); err != nil {
		tb.Fatal(err)
	}
	log := audit.NewLog(rdb, prefix, 0)
	ver := verify.New(rdb, prefix, book, log, verify.Config{})
	cbHours, err := calendar.ParseHours(calendar.Warsaw(), "mon-fri 09:00-17:00")
	if err != nil {
		tb.Fatal(err)
	}
	conHours, err := calendar.ParseHours(calendar.Warsaw(), opt.ConsultantHours)
	if err != nil {
		tb.Fatal(err)
	}
	cbs, err := callbacks.New(rdb, prefix, callbacks.Config{Hours: cbHours, Location: calendar.Warsaw(), Now: opt.Now})
	if err != nil {
		tb.Fatal(err)
	}
	flow, err := dialogs.New(dialogs.Config{}, dialogs.Deps{
		Verifier: ver, Cases: book, Callbacks: cbs, Consultants: consultants.NewHours(conHours),
	})
	if err != nil {
		tb.Fatal(err)
	}
	prompts, err := cfg.PromptTexts()
	if err != nil {
		tb.Fatal(err)
	}
	st := session.NewStore(rdb, prefix, time.Hour)
	var store assistant.SessionStore = st
	if opt.WrapSessions != nil {
		store = opt.WrapSessions(st)
	}
	eng, err := assistant.New(ctx, assistant.Options{
		Flow: flow, NLU: nlu.NewRules(calendar.Warsaw()), Sessions: store, Audit: log, Prompts: prompts,
		Now: opt.Now, Observer: opt.Observer,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &Rig{Engine: eng, Sessions: st, Audit: log, Prompts: prompts}
}
