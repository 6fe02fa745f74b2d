package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"hotline/assistant/calendar"
	"hotline/assistant/console"
	"hotline/assistant/httpapi"
	"hotline/assistant/outbound"
	"hotline/configs"
)

// Callbacks handed to the consultants (outbound.callbacks_to:
// consultants): the dialer (or, with outbound.enabled off, a hand-off
// loop) queues due callbacks instead of dialling them, and the console's
// "Oddzwonienia" panel works them (assistant/outbound/handoff.go).

// consultantCallbacks reports whether due callbacks go to the consultants.
func (a *app) consultantCallbacks() bool {
	return a.cfg.Outbound.CallbacksTo == configs.CallbacksToConsultants
}

// handoffGate builds the compliance gate from outbound.* (as
// startOutbound does): consultants call within the same rules.
func (a *app) handoffGate() (*outbound.Gate, error) {
	c := a.cfg.Outbound
	window, err := calendar.ParseHours(a.cfg.Location(), c.Window)
	if err != nil {
		return nil, usageError{fmt.Errorf("outbound.window: %w", err)}
	}
	return outbound.NewGate(a.rdb, a.cfg.Redis.Prefix, outbound.GateConfig{Window: window, WeeklyCap: c.WeeklyCap, LiveTTL: c.LiveTTL})
}

// newHandoff builds the consultants' hand-off on the given services; nil
// when callbacks go to the assistant.
func (a *app) newHandoff(sched *outbound.Scheduler, gate *outbound.Gate, ledger *outbound.Ledger) (*outbound.Handoff, error) {
	if !a.consultantCallbacks() {
		return nil, nil
	}
	c := a.cfg.Outbound
	h, err := outbound.NewHandoff(outbound.HandoffConfig{
		Hold: c.ConsultantHold, MaxAttempts: c.MaxAttempts, Backoff: c.Backoff(), Poll: c.Poll,
		Now: a.clock, Logger: a.log, Observer: a.metrics.assistant,
	}, outbound.HandoffDeps{Scheduler: sched, Gate: gate, Ledger: ledger, Phones: bookPhones{a}})
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	return h, nil
}

// callbackDesk is the console's side of the hand-off: nil (no panel)
// when callbacks go to the assistant. Its scheduler only reads and
// writes callback records; it claims nothing.
func (a *app) callbackDesk() (console.CallbackDesk, error) {
	if !a.consultantCallbacks() {
		return nil, nil
	}
	gate, err := a.handoffGate()
	if err != nil {
		return nil, err
	}
	prefix := a.cfg.Redis.Prefix
	sched := outbound.NewScheduler(a.rdb, prefix, a.cbs, outbound.SchedulerConfig{Now: a.clock, Logger: a.log})
	h, err := a.newHandoff(sched, gate, outbound.NewLedger(a.rdb, prefix))
	if err != nil {
		return nil, err
	}
	return h, nil
}

// startHandoffOnly runs, with outbound.enabled off, the loop that hands
// due callbacks to the consultants (no trunk is needed for that);
// campaign and one-off attempts wait for a dialer. The contact ledger
// export and do-not-call marks are mounted on srv (the consultants'
// attempts are in the ledger). stop ends it.
func (a *app) startHandoffOnly(ctx context.Context, srv *httpapi.Server) (stop func(), err error) {
	c := a.cfg.Outbound
	gate, err := a.handoffGate()
	if err != nil {
		return nil, err
	}
	prefix := a.cfg.Redis.Prefix
	host, _ := os.Hostname()
	sched := outbound.NewScheduler(a.rdb, prefix, a.cbs, outbound.SchedulerConfig{
		Owner: host + "-" + strconv.Itoa(os.Getpid()), Lease: c.Lease, Now: a.clock, Logger: a.log,
	})
	a.metrics.assistant.WatchDue(sched)
	ledger := outbound.NewLedger(a.rdb, prefix)
	h, err := a.newHandoff(sched, gate, ledger)
	if err != nil {
		return nil, err
	}
	api := &outbound.API{Gate: gate, Ledger: ledger, Now: a.clock, Location: a.cfg.Location()}
	api.MountRecords(srv.Echo(), httpapi.BearerAuth(a.cfg.API.Tokens))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		a.log.Info("outbound calls off (outbound.enabled): due callbacks go to the consultants' console (outbound.callbacks_to)",
			"hold", c.ConsultantHold.String(), "owner", sched.Owner())
		if err := h.Run(ctx); err != nil {
			a.log.Error("outbound: hand-off to the consultants", "err", err)
		}
	})
	return func() { cancel(); wg.Wait() }, nil
}
