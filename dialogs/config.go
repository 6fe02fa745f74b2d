package dialogs

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the inbound flow. The zero value of a field means "use the
// default" (see WithDefaults).
type Config struct {
	// CaseNumberMin and CaseNumberMax bound the case file number's length
	// in digits (default 6 and 12).
	CaseNumberMin, CaseNumberMax int
	// MaxAttempts is how many rejected verifications one call may have
	// before the flow stops asking (default 3). The per-case lockout over
	// days is the Verifier's business, not this counter's.
	MaxAttempts int
	// MaxReprompts is how many times one question is asked again after a
	// timeout or an answer that does not fit; the next such failure ends
	// the question (default 3).
	MaxReprompts int
	// InputTimeout is how long the engine waits for an answer; it is put
	// into every Expect (default 8 s).
	InputTimeout time.Duration
	// CallbackSlots is how many callback slots are offered at once, 1–8
	// (default 3): keys 1–8 pick, 9 repeats and 0 goes back to the menu.
	CallbackSlots int
	// SpeechInput tells whether speech recognition is available: prompts
	// then invite the caller to speak; otherwise they speak of the keypad only.
	SpeechInput bool
}

// Defaults of Config.
const (
	DefaultCaseNumberMin = 6
	DefaultCaseNumberMax = 12
	DefaultMaxAttempts   = 3
	DefaultMaxReprompts  = 3
	DefaultInputTimeout  = 8 * time.Second
	DefaultCallbackSlots = 3

	// maxCallbackSlots keeps the slot keys clear of 9 (repeat) and 0 (back).
	maxCallbackSlots = 8
	// maxCaseNumberLen is a sanity bound for the keypad collector.
	maxCaseNumberLen = 32
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	setDefault(&c.CaseNumberMin, DefaultCaseNumberMin)
	setDefault(&c.CaseNumberMax, DefaultCaseNumberMax)
	setDefault(&c.MaxAttempts, DefaultMaxAttempts)
	setDefault(&c.MaxReprompts, DefaultMaxReprompts)
	setDefault(&c.InputTimeout, DefaultInputTimeout)
	setDefault(&c.CallbackSlots, DefaultCallbackSlots)
	return c
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Validate reports every field that is out of range (after WithDefaults,
// a zero is out of range too).
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("dialogs: config: "+format, args...))
		}
	}
	check(c.CaseNumberMin >= 1, "case number min %d < 1", c.CaseNumberMin)
	check(c.CaseNumberMax >= c.CaseNumberMin, "case number max %d < min %d", c.CaseNumberMax, c.CaseNumberMin)
	check(c.CaseNumberMax <= maxCaseNumberLen, "case number max %d > %d", c.CaseNumberMax, maxCaseNumberLen)
	check(c.MaxAttempts >= 1, "max attempts %d < 1", c.MaxAttempts)
	check(c.MaxReprompts >= 1, "max reprompts %d < 1", c.MaxReprompts)
	check(c.InputTimeout > 0, "input timeout %v <= 0", c.InputTimeout)
	check(c.CallbackSlots >= 1 && c.CallbackSlots <= maxCallbackSlots,
		"callback slots %d not in 1..%d", c.CallbackSlots, maxCallbackSlots)
	return errors.Join(errs...)
}
