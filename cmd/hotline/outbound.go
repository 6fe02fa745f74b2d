package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"hotline/assistant/calendar"
	"hotline/assistant/httpapi"
	"hotline/assistant/outbound"
	"hotline/assistant/voice"
)

// The voice handler runs the answered call (right-party check first).
var _ outbound.Runner = (*voice.Handler)(nil)

// bookPhones finds a case's phone in the case book.
type bookPhones struct{ a *app }

var _ outbound.PhoneBook = bookPhones{}

func (b bookPhones) Phone(ctx context.Context, caseNumber string) (string, error) {
	c, err := b.a.book.Get(ctx, caseNumber)
	if err != nil {
		return "", err
	}
	return c.Phone, nil
}

// startOutbound builds the compliance gate, the contact ledger, the
// scheduler, campaigns and the dialer, mounts the outbound API on srv and
// starts dialling through d once ready is closed. The dialer stops
// claiming when ctx ends (or stop is called), hands claimed work back and
// waits for its calls (the SIP drain ends them); stop waits for that. With outbound.enabled
// off nothing starts.
func (a *app) startOutbound(ctx context.Context, srv *httpapi.Server, d outbound.Dialer, ready <-chan struct{}, h *voice.Handler) (stop func(), err error) {
	c := a.cfg.Outbound
	if !c.Enabled {
		if a.consultantCallbacks() {
			return a.startHandoffOnly(ctx, srv) // handoff.go: consultants call callbacks back, no trunk needed
		}
		a.log.Info("outbound calls off (outbound.enabled): callbacks are stored but not dialled")
		// /metrics still shows the callbacks coming due (a scheduler that
		// only counts: it claims nothing).
		a.metrics.assistant.WatchDue(outbound.NewScheduler(a.rdb, a.cfg.Redis.Prefix, a.cbs, outbound.SchedulerConfig{Now: a.clock}))
		return func() {}, nil
	}
	prefix, loc := a.cfg.Redis.Prefix, a.cfg.Location()
	window, err := calendar.ParseHours(loc, c.Window)
	if err != nil {
		return nil, usageError{fmt.Errorf("outbound.window: %w", err)}
	}
	gate, err := outbound.NewGate(a.rdb, prefix, outbound.GateConfig{Window: window, WeeklyCap: c.WeeklyCap, LiveTTL: c.LiveTTL})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	sched := outbound.NewScheduler(a.rdb, prefix, a.cbs, outbound.SchedulerConfig{
		Owner: host + "-" + strconv.Itoa(os.Getpid()), Lease: c.Lease, Now: a.clock, Logger: a.log,
	})
	a.metrics.assistant.WatchDue(sched)
	ledger := outbound.NewLedger(a.rdb, prefix)
	handoff, err := a.newHandoff(sched, gate, ledger) // handoff.go: nil unless outbound.callbacks_to is consultants
	if err != nil {
		return nil, err
	}
	camps := outbound.NewCampaigns(a.rdb, prefix, sched, loc, a.clock)
	w, err := outbound.NewWorker(outbound.WorkerConfig{
		MaxConcurrent: c.MaxConcurrent, CPS: float64(c.CPS), RingTimeout: c.RingTimeout, Target: c.Target,
		TrunkMaxConcurrent: c.TrunkMaxConcurrent, TrunkCPS: float64(c.TrunkCPS),
		MaxAttempts: c.MaxAttempts, Backoff: c.Backoff(), Poll: c.Poll, Now: a.clock, Logger: a.log,
		Observer: a.metrics.assistant,
	}, outbound.WorkerDeps{
		Scheduler: sched, Gate: gate, Ledger: ledger, Campaigns: camps,
		Dialer: d, Runner: h, Phones: bookPhones{a}, Handoff: handoff,
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("outbound: %w", err)}
	}
	api := &outbound.API{Gate: gate, Scheduler: sched, Campaigns: camps, Ledger: ledger,
		Phones: bookPhones{a}, Wake: w.Wake, Now: a.clock, Location: loc}
	api.Mount(srv.Echo(), httpapi.BearerAuth(a.cfg.API.Tokens))

	// stop must end the dialer even when serve returns for another
	// reason than the signal (e.g. SIP failed to listen).
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ready:
		case <-ctx.Done():
			return
		}
		a.log.Info("outbound dialer started", "window", window.String(), "max_concurrent", c.MaxConcurrent,
			"cps", c.CPS, "trunk_max_concurrent", c.TrunkMaxConcurrent, "trunk_cps", c.TrunkCPS, "owner", sched.Owner())
		if err := w.Run(ctx); err != nil {
			a.log.Error("outbound dialer", "err", err)
		}
		a.log.Info("outbound dialer stopped")
	})
	return func() { cancel(); wg.Wait() }, nil
}
