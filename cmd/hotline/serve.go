package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"hotline/assistant/httpapi"
)

// cmdServe runs the service until SIGINT/SIGTERM: SIP calls reach the
// assistant, HTTP serves health, readiness and the API. On the signal
// /readyz turns 503, new INVITEs get 503, and live calls may finish
// within sip.drain_timeout.
func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := newApp(ctx, cfg, log, seed{})
	if err != nil {
		return err
	}
	defer a.close()
	return a.serve(ctx)
}

// serve runs the built app until ctx ends (cmdServe; tests run it in
// process with their own clock).
func (a *app) serve(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	handler, err := a.newVoiceHandler()
	if err != nil {
		return err
	}
	sip, err := a.newSIPServer(handler)
	if err != nil {
		return usageError{err}
	}
	srv := httpapi.New(log,
		httpapi.Check{Name: "redis", Fn: func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() }},
		httpapi.Check{Name: "sip", Fn: func(context.Context) error {
			select {
			case <-sip.Ready():
				return nil
			default:
				return errors.New("not listening yet")
			}
		}},
	)
	srv.SetLoad(func() (int, int) { return sip.ActiveCalls(), cfg.SIP.MaxCalls })
	srv.MountCallsWithNotes(a.sessions, a.callNotes(), cfg.API.Tokens) // notes: console.go
	if err := a.mountWeb(ctx, srv); err != nil {
		return err
	}
	gw, err := a.newWebRTCGateway(handler, srv) // browser calls: the same handler
	if err != nil {
		return usageError{err}
	}
	defer a.stopWebRTC(gw, cfg.SIP.DrainTimeout)
	a.metrics.mount(srv.Echo())
	stopConsole, err := a.startConsole(ctx, srv, gw) // console.go: consultants' legs on the same gateway
	if err != nil {
		return err
	}
	defer stopConsole()
	stopOutbound, err := a.startOutbound(ctx, srv, sip, sip.Ready(), handler)
	if err != nil {
		return err
	}
	defer stopOutbound()
	if len(cfg.API.Tokens) == 0 {
		log.Warn("api.tokens is empty: /api/v1 refuses every request (set HOTLINE_API_TOKENS)")
	}

	// SIP stops (drains) when ctx ends; HTTP stays up until SIP is done,
	// so /readyz can say "draining" meanwhile.
	sipCtx, stopSIP := context.WithCancel(ctx)
	defer stopSIP()
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	sipErr := make(chan error, 1)
	sipDone := make(chan struct{})
	go func() { defer close(sipDone); sipErr <- sip.Serve(sipCtx) }()
	go func() {
		select {
		case <-sip.Ready():
			log.Info("sip listening", "addr", sip.Addr().String())
		case <-sipCtx.Done():
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-sipDone:
			return
		}
		srv.Drain()
		if gw != nil {
			gw.Drain()
		}
		log.Info("draining: new calls refused, live calls may finish", "timeout", cfg.SIP.DrainTimeout.String(),
			"live_calls", sip.ActiveCalls())
		reportDrain(log, sip.ActiveCalls, sipDone)
	}()
	httpErr := make(chan error, 1)
	go func() {
		httpErr <- srv.Serve(httpCtx, cfg.HTTP.Listen, cfg.HTTP.ShutdownTimeout, func(addr net.Addr) {
			log.Info("http listening", "addr", addr.String())
		})
	}()
	select {
	case err := <-sipErr:
		a.stopWebRTC(gw, cfg.SIP.DrainTimeout) // browser calls drain too
		// SIP counts a call over when its dialog ends; its conversation
		// may still be writing the end of the session.
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if werr := handler.Wait(wctx); werr != nil {
			log.Warn("conversations still running at exit", "err", werr)
		}
		// Sessions kept in memory through a Redis outage: last chance.
		if n := a.engine.Degraded(); n > 0 {
			if ferr := a.engine.Flush(wctx); ferr != nil {
				log.Error("sessions kept in memory during a Redis outage could not be saved", "sessions", n, "err", ferr)
			}
		}
		cancel()
		stopHTTP()
		herr := <-httpErr
		if err != nil {
			return fmt.Errorf("sip: %w", err)
		}
		return herr
	case err := <-httpErr:
		stopSIP()
		serr := <-sipErr
		return errors.Join(err, serr)
	}
}

// drainReportEvery is how often a drain logs the calls it waits for.
const drainReportEvery = 5 * time.Second

// reportDrain logs the live calls every drainReportEvery until done, so
// an operator watching a rollout sees the drain progress; a second signal
// stops at once (see stopOnSignal).
func reportDrain(log *slog.Logger, live func() int, done <-chan struct{}) {
	start := time.Now()
	t := time.NewTicker(drainReportEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			log.Info("drained", "took", time.Since(start).Round(time.Millisecond))
			return
		case <-t.C:
			log.Info("draining: waiting for live calls", "live_calls", live(),
				"elapsed", time.Since(start).Round(time.Second))
		}
	}
}
