package dialogs_test

import (
	"strings"
	"testing"
	"time"

	"hotline/dialogs"
)

func TestConfigDefaults(t *testing.T) {
	got := dialogs.Config{}.WithDefaults()
	want := dialogs.Config{CaseNumberMin: 6, CaseNumberMax: 12, MaxAttempts: 3, MaxReprompts: 3,
		InputTimeout: 8 * time.Second, CallbackSlots: 3}
	if got != want {
		t.Errorf("WithDefaults = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	set := dialogs.Config{CaseNumberMin: 4, MaxAttempts: 1, SpeechInput: true}.WithDefaults()
	if set.CaseNumberMin != 4 || set.MaxAttempts != 1 || !set.SpeechInput || set.CaseNumberMax != 12 {
		t.Errorf("WithDefaults overrode set fields: %+v", set)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := dialogs.Config{}.WithDefaults()
	tests := []struct {
		name   string
		change func(*dialogs.Config)
		want   string
	}{
		{"min", func(c *dialogs.Config) { c.CaseNumberMin = 0 }, "min"},
		{"max below min", func(c *dialogs.Config) { c.CaseNumberMax = 5 }, "max 5 < min 6"},
		{"max too big", func(c *dialogs.Config) { c.CaseNumberMax = 40 }, "max 40 > 32"},
		{"attempts", func(c *dialogs.Config) { c.MaxAttempts = -1 }, "max attempts"},
		{"reprompts", func(c *dialogs.Config) { c.MaxReprompts = 0 }, "max reprompts"},
		{"timeout", func(c *dialogs.Config) { c.InputTimeout = -time.Second }, "input timeout"},
		{"slots", func(c *dialogs.Config) { c.CallbackSlots = 9 }, "callback slots 9"},
	}
	for _, tt := range tests {
		c := ok
		tt.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestNewRequiresDeps(t *testing.T) {
	w := newWorld()
	_, err := dialogs.New(dialogs.Config{}, dialogs.Deps{Verifier: w, Consultants: w})
	if err == nil || !strings.Contains(err.Error(), "Cases") || !strings.Contains(err.Error(), "Callbacks") {
		t.Errorf("New without deps: %v", err)
	}
	if _, err := dialogs.New(dialogs.Config{CallbackSlots: 20}, w.deps()); err == nil {
		t.Error("New with a bad config: no error")
	}
	f, err := dialogs.New(dialogs.Config{}, w.deps())
	if err != nil || f.Config().CaseNumberMax != 12 {
		t.Errorf("New = %v, %v", f, err)
	}
}
