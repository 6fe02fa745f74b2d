package redact_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"hotline/assistant/redact"
)

func TestText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"no digits here", "no digits here"},
		{"case 12345678 not found", "case ***678 not found"},
		{"born 02011980", "born ***980"},
		{"born 1980-01-02 ok", "born *** ok"},
		{"born 02.01.1980", "born ***"},
		{"call from +48600100200 ended", "call from *** ended"},
		{"call from +48 600 100 200", "call from ***"},
		{"pay to 12 1090 1014 0000 0712 1981 2874 now", "pay to *** now"},
		{"pay to PL61109010140000071219812874", "pay to ***"},
		{"balance 1499.78 zł", "balance ***"},
		{"balance 1 499,78 PLN", "balance ***"},
		{"grosze 149978", "grosze ***"}, // six digits: too short to keep a tail,
		// What must survive: short numbers, ports, durations, versions.
		{"listening on 127.0.0.1:5060", "listening on 127.0.0.1:5060"},
		{"retry in 30s, 3 of 5 attempts", "retry in 30s, 3 of 5 attempts"},
		{"took 12.5ms", "took 12.5ms"},
	}
	for _, tt := range tests {
		if got := redact.Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "debtor born 1980-01-02" }

func TestAttr(t *testing.T) {
	tests := []struct {
		name string
		in   slog.Attr
		want string // the value as the text handler prints it
	}{
		{"case number keeps its tail", slog.String("case_number", "12345678"), "***678"},
		{"case by key", slog.String("Case", "12345678"), "***678"},
		{"int case number", slog.Int("case", 12345678), "***678"},
		{"phone", slog.String("phone", "+48600100200"), "***200"},
		{"from", slog.String("from", "+48600100200"), "***200"},
		{"to", slog.String("to", "hotline"), "***ine"},
		{"short identifier keeps nothing", slog.String("caller", "1234"), redact.Mask},
		{"name", slog.String("debtor_name", "Jan Kowalski"), redact.Mask},
		{"name alone", slog.String("name", "Jan Kowalski"), redact.Mask},
		{"birth date", slog.String("birth_date", "1980-01-02"), redact.Mask},
		{"dob as time", slog.Time("dob", time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC)), redact.Mask},
		{"amount in grosze", slog.Int64("amount", 149978), redact.Mask},
		{"balance", slog.String("balance", "1499.78"), redact.Mask},
		{"account", slog.String("bank_account", "12 1090 1014 0000 0712 1981 2874"), "***874"},
		{"ids are left alone", slog.String("sip_call_id", "1-123456@127.0.0.1"), "1-123456@127.0.0.1"},
		{"call id", slog.String("call_id", "sip-0123456789abcdef"), "sip-0123456789abcdef"},
		{"plain string by pattern", slog.String("input", "12345678#"), "***678#"},
		{"error by pattern", slog.Any("err", fmt.Errorf("load: %w", errors.New("case 12345678 missing"))), "load: case ***678 missing"},
		{"stringer by pattern", slog.Any("what", stringer{}), "debtor born ***"},
		{"slice by pattern", slog.Any("keys", []string{"02011980"}), "[***980]"},
		{"numbers under plain keys stay", slog.Int("active_calls", 1234567), "1234567"},
		{"durations stay", slog.Duration("took", 1500*time.Millisecond), "1.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact.Attr(tt.in).Value.String(); got != tt.want {
				t.Errorf("%s=%v → %q, want %q", tt.in.Key, tt.in.Value, got, tt.want)
			}
		})
	}
}

// TestHandler: messages, attributes, With attributes and groups are all
// masked, in text and JSON.
func TestHandler(t *testing.T) {
	secrets := []string{"12345678", "02011980", "1980-01-02", "Jan Kowalski", "+48600100200", "149978", "1499.78"}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			opt := &slog.HandlerOptions{Level: slog.LevelDebug}
			var inner slog.Handler = slog.NewTextHandler(&buf, opt)
			if format == "json" {
				inner = slog.NewJSONHandler(&buf, opt)
			}
			log := slog.New(redact.New(inner))
			call := log.With("call_id", "sip-00aa", "from", "+48600100200")
			call.Info("verified case 12345678 born 02011980", "debtor", "Jan Kowalski", "amount", 149978)
			call.WithGroup("case").Debug("loaded", "number", "12345678", "balance", "1499.78",
				slog.Group("who", "name", "Jan Kowalski", "birth", "1980-01-02"))
			call.Warn("turn", "err", errors.New("bad input 02011980"))
			if !log.Enabled(t.Context(), slog.LevelDebug) {
				t.Fatal("debug disabled")
			}
			out := buf.String()
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("log contains %q:\n%s", s, out)
				}
			}
			for _, s := range []string{"sip-00aa", "***200", "***678", "verified case", "loaded"} {
				if !strings.Contains(out, s) {
					t.Errorf("log lacks %q:\n%s", s, out)
				}
			}
			if n := strings.Count(out, "\n"); n != 3 {
				t.Errorf("%d lines, want 3:\n%s", n, out)
			}
		})
	}
}
