package main

import (
	"context"
	"io"
	"net"

	"hotline/assistant/httpapi"
)

// cmdServe runs the service until SIGINT/SIGTERM.
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
	srv := httpapi.New(log, httpapi.Check{Name: "redis", Fn: func(ctx context.Context) error {
		return a.rdb.Ping(ctx).Err()
	}})
	srv.MountCalls(a.sessions, cfg.API.Tokens)
	if len(cfg.API.Tokens) == 0 {
		log.Warn("api.tokens is empty: /api/v1 refuses every request (set HOTLINE_API_TOKENS)")
	}
	go func() {
		<-ctx.Done()
		srv.Drain()
	}()
	return srv.Serve(ctx, cfg.HTTP.Listen, cfg.HTTP.ShutdownTimeout, func(addr net.Addr) {
		log.Info("http listening", "addr", addr.String())
	})
}
