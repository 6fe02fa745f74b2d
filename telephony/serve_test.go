package telephony_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

func TestServeHangsUpWithTheHandlersOutcome(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler telephony.HandlerFunc
		want    telephony.Cause
		logged  string // a message the log must hold; "" for none at warn or above
	}{
		{"returns nil", func(context.Context, telephony.Leg) error { return nil },
			telephony.CauseBotHangup, ""},
		{"leg closed", func(context.Context, telephony.Leg) error {
			return fmt.Errorf("play: %w", telephony.ErrLegClosed)
		}, telephony.CauseBotHangup, ""},
		{"ctx cancelled", func(context.Context, telephony.Leg) error { return context.Canceled },
			telephony.CauseBotHangup, ""},
		{"fails", func(context.Context, telephony.Leg) error { return errors.New("boom") },
			telephony.CauseFailed, "handler failed"},
		{"panics", func(context.Context, telephony.Leg) error { panic("kaput") },
			telephony.CauseFailed, "handler panic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
			leg := telephonytest.NewLeg(telephony.LegInfo{})
			telephony.Serve(context.Background(), tc.handler, leg, log)
			select {
			case <-leg.Done():
			default:
				t.Fatal("Serve returned before the leg ended")
			}
			if got := leg.Cause(); got != tc.want {
				t.Errorf("cause = %q, want %q", got, tc.want)
			}
			if tc.logged == "" && buf.Len() > 0 {
				t.Errorf("unexpected log: %s", buf.String())
			}
			if tc.logged != "" && !strings.Contains(buf.String(), tc.logged) {
				t.Errorf("log %q lacks %q", buf.String(), tc.logged)
			}
		})
	}
}

func TestServeKeepsTheFirstCause(t *testing.T) {
	leg := telephonytest.NewLeg(telephony.LegInfo{})
	h := telephony.HandlerFunc(func(context.Context, telephony.Leg) error {
		leg.CallerHangup()
		return errors.New("the caller went away mid-prompt")
	})
	telephony.Serve(context.Background(), h, leg, slog.New(slog.DiscardHandler))
	if got := leg.Cause(); got != telephony.CauseCallerHangup {
		t.Errorf("cause = %q, want %q", got, telephony.CauseCallerHangup)
	}
}

func TestEndedErrorIsLegClosed(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(telephony.EndedError(telephony.CauseMediaTimeout))
	err := context.Cause(ctx)
	if !errors.Is(err, telephony.ErrLegClosed) || err.Error() != "telephony: leg ended: media_timeout" {
		t.Errorf("context.Cause = %v", err)
	}
	var ended telephony.EndedError
	if !errors.As(err, &ended) || telephony.Cause(ended) != telephony.CauseMediaTimeout {
		t.Errorf("errors.As = %q", ended)
	}
}
