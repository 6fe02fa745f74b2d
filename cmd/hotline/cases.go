package main

import (
	"context"
	"fmt"
	"io"

	"hotline/assistant/cases"
)

// cmdCasesImport imports a case file into the configured Redis, all or
// nothing. Problems in the file are reported as file:line: field: problem
// and exit with 2.
func cmdCasesImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cases import", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("cases import: want exactly one FILE (.csv or .yaml)")
	}
	file := fs.Arg(0)
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	opt := cases.Options{CaseNumber: cases.DigitsPattern(cfg.Dialog.CaseNumberMin, cfg.Dialog.CaseNumberMax)}
	list, err := cases.ParseFile(file, opt)
	if err != nil {
		return usageError{err}
	}
	log := newLogger(cfg, stderr)
	if cfg.Redis.URL == "" {
		log.Warn("redis.url is empty: importing into a throw-away embedded store (use HOTLINE_REDIS_URL to import for real)")
	}
	a, err := newApp(ctx, cfg, log, seed{})
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.book.Import(ctx, list); err != nil {
		return fmt.Errorf("cases import %s: %w", file, err)
	}
	fmt.Fprintf(stdout, "imported %d cases from %s\n", len(list), file)
	return nil
}
