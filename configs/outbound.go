package configs

import (
	"strings"
	"time"

	"hotline/assistant/calendar"
)

// OutboundConfig configures outbound calls: the compliance gate, the dialer and campaigns.
type OutboundConfig struct {
	// Enabled starts the dialer (callbacks and campaigns are dialled) and
	// mounts the outbound API. Off by default: dialling needs a trunk.
	Enabled bool `yaml:"enabled"`
	// Window is when calls may be placed, in the configured timezone, as
	// hours rules ("mon-fri 08:00-20:00"; "hol HH:MM-HH:MM" opens public
	// holidays, which are closed otherwise).
	Window    string        `yaml:"window"`
	WeeklyCap int           `yaml:"weekly_cap"` // attempts per debtor in any 7 days
	LiveTTL   time.Duration `yaml:"live_ttl"`   // a call's live mark expires after this if never cleared
	// Target turns a phone number into the SIP URI dialled: {phone} is
	// replaced by the E.164 number, e.g. "sip:{phone}@trunk.example:5060".
	Target        string        `yaml:"target"`
	MaxConcurrent int           `yaml:"max_concurrent"` // calls at once per instance
	CPS           int           `yaml:"cps"`            // new calls per second per instance
	RingTimeout   time.Duration `yaml:"ring_timeout"`
	Lease         time.Duration `yaml:"lease"`        // a claim lapses when not renewed for this long
	MaxAttempts   int           `yaml:"max_attempts"` // dial attempts per callback or campaign case
	// RetryBackoff is the wait before the 2nd, 3rd … attempt (the last
	// repeats); a retry also waits for the calling window.
	RetryBackoff []string      `yaml:"retry_backoff"`
	Poll         time.Duration `yaml:"poll"` // how often each instance looks for due work
	// CallbacksTo says who calls due callbacks back: CallbacksToAssistant
	// (the dialer) or CallbacksToConsultants (queued in the console; no
	// trunk needed, so also with Enabled off).
	CallbacksTo string `yaml:"callbacks_to"`
	// ConsultantHold is how long a callback a consultant took stays
	// theirs without a reported outcome; then it returns to the list.
	ConsultantHold time.Duration `yaml:"consultant_hold"`
	// TrunkMaxConcurrent and TrunkCPS bound all instances on this Redis
	// together, the SIP trunk's limits (0: no shared limit); MaxConcurrent
	// and CPS still bound each instance.
	TrunkMaxConcurrent int `yaml:"trunk_max_concurrent"` // calls at once, cluster-wide
	TrunkCPS           int `yaml:"trunk_cps"`            // new calls per second, cluster-wide
}

// Who calls due callbacks back (outbound.callbacks_to).
const (
	CallbacksToAssistant   = "assistant"
	CallbacksToConsultants = "consultants"
)

// Backoff returns RetryBackoff parsed (check has validated it).
func (c OutboundConfig) Backoff() []time.Duration {
	out := make([]time.Duration, 0, len(c.RetryBackoff))
	for _, s := range c.RetryBackoff {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// check reports problems through bad, keys named as in the YAML file.
func (c OutboundConfig) check(bad func(key, format string, args ...any)) {
	// The location does not change the syntax; the window is evaluated
	// in the configured timezone at start-up.
	if _, err := calendar.ParseHours(time.UTC, c.Window); err != nil {
		bad("outbound.window", "%v", err)
	}
	if c.WeeklyCap < 1 || c.WeeklyCap > 50 {
		bad("outbound.weekly_cap", "must be 1..50, got %d", c.WeeklyCap)
	}
	if c.Enabled && !strings.HasPrefix(c.Target, "sip:") {
		bad("outbound.target", "must be a sip: URI template with {phone}, e.g. sip:{phone}@trunk.example:5060, got %q", c.Target)
	}
	if c.Target != "" && !strings.Contains(c.Target, "{phone}") {
		bad("outbound.target", "must contain {phone}, got %q", c.Target)
	}
	if c.MaxConcurrent < 1 || c.MaxConcurrent > 1000 {
		bad("outbound.max_concurrent", "must be 1..1000, got %d", c.MaxConcurrent)
	}
	if c.CPS < 1 || c.CPS > 1000 {
		bad("outbound.cps", "must be 1..1000, got %d", c.CPS)
	}
	if c.TrunkMaxConcurrent < 0 || c.TrunkMaxConcurrent > 10000 {
		bad("outbound.trunk_max_concurrent", "must be 0..10000 (0: no shared limit), got %d", c.TrunkMaxConcurrent)
	}
	if c.TrunkCPS < 0 || c.TrunkCPS > 1000 {
		bad("outbound.trunk_cps", "must be 0..1000 (0: no shared limit), got %d", c.TrunkCPS)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 20 {
		bad("outbound.max_attempts", "must be 1..20, got %d", c.MaxAttempts)
	}
	for key, d := range map[string]time.Duration{
		"outbound.live_ttl": c.LiveTTL, "outbound.ring_timeout": c.RingTimeout,
		"outbound.lease": c.Lease, "outbound.poll": c.Poll,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	if c.Lease > 0 && c.Poll > 0 && c.Lease < 3*c.Poll {
		bad("outbound.lease", "must be at least 3 × outbound.poll (leases are renewed while calls run), got %s", c.Lease)
	}
	if c.CallbacksTo != CallbacksToAssistant && c.CallbacksTo != CallbacksToConsultants {
		bad("outbound.callbacks_to", "must be %s or %s, got %q", CallbacksToAssistant, CallbacksToConsultants, c.CallbacksTo)
	}
	if c.ConsultantHold <= 0 {
		bad("outbound.consultant_hold", "must be a positive duration, got %s", c.ConsultantHold)
	}
	if len(c.RetryBackoff) == 0 {
		bad("outbound.retry_backoff", "must list at least one duration, e.g. [15m, 1h, 4h]")
	}
	for _, s := range c.RetryBackoff {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err != nil || d <= 0 {
			bad("outbound.retry_backoff", "%q is not a positive duration like 15m", s)
		}
	}
}
