package main

import (
	"context"
	"io"

	"hotline/assistant/chat"
)

// cmdChat runs a terminal conversation: stdin lines in, "bot:" lines out.
// Logs go to stderr, so stdout carries only the conversation.
func cmdChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("chat", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	casesFile := fs.String("cases", "", "case file (CSV or YAML) to load before the conversation")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("chat: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := newApp(ctx, cfg, log, seed{file: *casesFile})
	if err != nil {
		return err
	}
	defer a.close()
	s := &chat.Session{Engine: a.engine, CallID: newCallID("chat"), Location: cfg.Location()}
	return s.Run(ctx, stdin, stdout)
}
