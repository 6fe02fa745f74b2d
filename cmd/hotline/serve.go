package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

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
	srv.MountCalls(a.sessions, cfg.API.Tokens)
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
	go func() { sipErr <- sip.Serve(sipCtx) }()
	go func() {
		select {
		case <-sip.Ready():
			log.Info("sip listening", "addr", sip.Addr().String())
		case <-sipCtx.Done():
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Drain()
		log.Info("draining: new calls refused, live calls may finish", "timeout", cfg.SIP.DrainTimeout.String())
	}()
	httpErr := make(chan error, 1)
	go func() {
		httpErr <- srv.Serve(httpCtx, cfg.HTTP.Listen, cfg.HTTP.ShutdownTimeout, func(addr net.Addr) {
			log.Info("http listening", "addr", addr.String())
		})
	}()
	select {
	case err := <-sipErr:
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
