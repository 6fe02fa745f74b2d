// Package outbound decides when and whether the assistant may call a
// debtor, and dials: the compliance gate, the contact ledger, the
// scheduler of due work (callbacks and campaign attempts) with leases, the
// dialer with its limits, campaigns and the operator HTTP API.
//
// Key layout (prefix default "hotline:"):
//
//	<prefix>outbound:dnc                     set of do-not-call phones (E.164)
//	<prefix>outbound:attempts:case:<case>    zset attempt id → unix ms, rolling 7 days
//	<prefix>outbound:attempts:phone:<phone>  zset attempt id → unix ms, rolling 7 days
//	<prefix>outbound:live:case:<case>        attempt id of the live call (TTL)
//	<prefix>outbound:live:phone:<phone>      attempt id of the live call (TTL)
//	<prefix>outbound:ledger                  stream: every attempt and outcome
//	<prefix>outbound:ledger:case:<case>      stream: the same entries for one case
//	<prefix>outbound:due                     zset job id → unix seconds (campaign and manual attempts)
//	<prefix>outbound:job:<id>                job record (JSON)
//	<prefix>outbound:inflight                zset claimed member → lease expiry (unix ms)
//	<prefix>outbound:owner                   hash claimed member → "<owner>|claimed" or "<owner>|dialling"
//	<prefix>outbound:campaign:<id>           campaign hash (settings, status, counters)
//	<prefix>outbound:campaigns               zset campaign id → creation unix ms
//	<prefix>outbound:parked:<campaign>       zset of a paused campaign's jobs
//	<prefix>outbound:handoff                 zset callback id → unix seconds it was handed to the consultants
//	<prefix>outbound:handoff:taker           hash callback id → the consultant who took it
//	<prefix>outbound:handoff:held            zset callback id → that consultant's hold expiry (unix ms)
//
// Scripts touch several of these keys at once: atomic on one server; on
// Redis Cluster give the deployment a hash-tagged prefix ("{hotline}:").
package outbound

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
)

// Key names, relative to the prefix.
const (
	keyDNC          = "outbound:dnc"
	keyAttemptsCase = "outbound:attempts:case:"
	keyAttemptsTel  = "outbound:attempts:phone:"
	keyLiveCase     = "outbound:live:case:"
	keyLiveTel      = "outbound:live:phone:"
)

// Rules a refusal names (RefusedError.Rule, the API's "rule").
const (
	RuleWindow    = "calling_window" // outside the calling window (weekday hours)
	RuleHoliday   = "public_holiday" // a Polish public holiday
	RuleWeeklyCap = "weekly_cap"     // the debtor had WeeklyCap attempts in the last 7 days
	RuleDNC       = "do_not_call"    // the number is marked do-not-call
	RuleLive      = "call_in_progress"
	RuleCampaign  = "campaign_window" // outside the campaign's own window
)

// CapWindow is the period the weekly cap counts over: a rolling 7 days,
// not the calendar week. The (stalled) draft law and ZPF's "not
// burdensome" rule are about frequency; a calendar week would allow 3
// calls on Friday and 3 more on Monday, a rolling window never allows
// more than WeeklyCap in any 7 days.
const CapWindow = 7 * 24 * time.Hour

// ErrRefused is matched (errors.Is) by every *RefusedError.
var ErrRefused = errors.New("outbound: refused by the compliance gate")

// ErrInvalid is wrapped by errors about bad input (phone, case number).
var ErrInvalid = errors.New("outbound: invalid input")

// RefusedError says which rule refused an attempt and, when the rule is
// temporary, the earliest time another try may pass it.
type RefusedError struct {
	Rule    string
	Detail  string
	RetryAt time.Time // zero: the rule is not temporary (do-not-call)
}

// Error implements error. Detail holds no personal data.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("outbound: refused (%s): %s", e.Rule, e.Detail)
}

// Is makes every refusal match ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Attempt is one intended call.
type Attempt struct {
	ID         string // unique per attempt; counted once in the weekly cap
	CaseNumber string // may be empty (a callback from the web form with a phone only)
	Phone      string // E.164
	CampaignID string
	CallbackID string
	At         time.Time
	// Window, when not zero, further restricts the calling window (a
	// campaign's own hours); it never widens the gate's window.
	Window calendar.Hours
}

// GateConfig tunes the gate. Zero fields take the defaults.
type GateConfig struct {
	// Window is when calls may be placed (default "mon-fri 08:00-20:00"
	// in Europe/Warsaw). Public holidays are closed unless a "hol" rule
	// gives them hours.
	Window    calendar.Hours
	WeeklyCap int           // attempts per debtor per CapWindow (3)
	LiveTTL   time.Duration // a live mark expires after this even if never cleared (2h)
}

// DefaultWindow is the calling window without configuration.
const DefaultWindow = "mon-fri 08:00-20:00"

// Gate is the compliance gate in front of every outbound INVITE.
type Gate struct {
	rdb    redis.UniversalClient
	prefix string
	cfg    GateConfig
}

// NewGate returns a gate on Redis.
func NewGate(rdb redis.UniversalClient, prefix string, cfg GateConfig) (*Gate, error) {
	if cfg.Window.IsZero() {
		h, err := calendar.ParseHours(calendar.Warsaw(), DefaultWindow)
		if err != nil {
			return nil, fmt.Errorf("outbound: default window: %w", err)
		}
		cfg.Window = h
	}
	if cfg.WeeklyCap <= 0 {
		cfg.WeeklyCap = 3
	}
	if cfg.LiveTTL <= 0 {
		cfg.LiveTTL = 2 * time.Hour
	}
	return &Gate{rdb: rdb, prefix: prefix, cfg: cfg}, nil
}

// Window returns the gate's calling window.
func (g *Gate) Window() calendar.Hours { return g.cfg.Window }

// e164 is an international phone number: +, country code, 8-15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// ValidPhone reports whether p is an E.164 number.
func ValidPhone(p string) bool { return e164.MatchString(p) }

// maxCaseLen bounds case numbers (as assistant/callbacks does).
const maxCaseLen = 64

// validCase reports whether cn is a printable ASCII case number.
func validCase(cn string) bool {
	if cn == "" || len(cn) > maxCaseLen {
		return false
	}
	for _, c := range cn {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// NextAllowed returns the first instant at or after t inside the calling
// window (and inside extra, when not zero), or the zero time if none is
// within about a year.
func (g *Gate) NextAllowed(t time.Time, extra calendar.Hours) time.Time {
	for range 64 {
		n := g.cfg.Window.Next(t)
		if n.IsZero() {
			return n
		}
		if !extra.IsZero() {
			m := extra.Next(n)
			if m.IsZero() {
				return m
			}
			if !m.Equal(n) {
				t = m
				continue
			}
		}
		return n
	}
	return time.Time{}
}

// windowCheck applies the time rules alone (no Redis).
func (g *Gate) windowCheck(a Attempt) error {
	w := g.cfg.Window
	lt := a.At.In(w.Location())
	if !w.Open(a.At) {
		rule, detail := RuleWindow, "outside the calling window "+w.String()
		if hol, name := calendar.IsHoliday(lt); hol {
			rule, detail = RuleHoliday, "public holiday: "+name
		}
		return &RefusedError{Rule: rule, Detail: detail + " (" + lt.Format("Mon 2006-01-02 15:04 MST") + ")",
			RetryAt: g.NextAllowed(a.At, a.Window)}
	}
	if !a.Window.IsZero() && !a.Window.Open(a.At) {
		return &RefusedError{Rule: RuleCampaign, Detail: "outside the campaign window " + a.Window.String(),
			RetryAt: g.NextAllowed(a.At, a.Window)}
	}
	return nil
}

// gateScript checks do-not-call, the live marks and the weekly cap and,
// unless dry, counts the attempt and sets the live marks — all in one
// step, so two instances cannot both pass the cap or both call.
//
// KEYS: 1 dnc set, 2 case attempts, 3 phone attempts, 4 case live, 5 phone live
// (without a case number KEYS[2]/KEYS[4] repeat the phone keys).
// ARGV: 1 phone, 2 now ms, 3 cap window ms, 4 cap, 5 attempt id, 6 live ttl ms, 7 "1" dry.
// Returns {"ok"}, {"dnc"}, {"live"} or {"cap", oldest counted ms}. An
// attempt id counted already passes the cap and sets the live marks again.
var gateScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return {'dnc'} end
for _, k in ipairs({KEYS[4], KEYS[5]}) do
  local cur = redis.call('GET', k)
  if cur and cur ~= ARGV[5] then return {'live'} end
end
local now, win, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local counted = false
for _, k in ipairs({KEYS[2], KEYS[3]}) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - win)
  if redis.call('ZSCORE', k, ARGV[5]) then counted = true end
end
if not counted then
  local oldest = nil
  for _, k in ipairs({KEYS[2], KEYS[3]}) do
    if redis.call('ZCARD', k) >= cap then
      local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
      local o = tonumber(first[2])
      if oldest == nil or o > oldest then oldest = o end
    end
  end
  if oldest ~= nil then return {'cap', tostring(oldest)} end
end
if ARGV[7] == '1' then return {'ok'} end
if not counted then
  for _, k in ipairs({KEYS[2], KEYS[3]}) do
    redis.call('ZADD', k, now, ARGV[5])
    redis.call('PEXPIRE', k, win)
  end
end
-- An attempt acquired again (a consultant takes a callback they gave
-- back) is live again, though counted once.
for _, k in ipairs({KEYS[4], KEYS[5]}) do
  redis.call('SET', k, ARGV[5], 'PX', ARGV[6])
end
return {'ok'}
`)

// endScript clears the live marks that still name the attempt.
var endScript = redis.NewScript(`
local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then n = n + redis.call('DEL', k) end
end
return n
`)

func (g *Gate) keys(a Attempt) []string {
	caseAtt, caseLive := g.prefix+keyAttemptsTel+a.Phone, g.prefix+keyLiveTel+a.Phone
	if a.CaseNumber != "" {
		caseAtt, caseLive = g.prefix+keyAttemptsCase+a.CaseNumber, g.prefix+keyLiveCase+a.CaseNumber
	}
	return []string{g.prefix + keyDNC, caseAtt, g.prefix + keyAttemptsTel + a.Phone, caseLive, g.prefix + keyLiveTel + a.Phone}
}

func (g *Gate) run(ctx context.Context, a Attempt, dry bool) error {
	if !ValidPhone(a.Phone) {
		return fmt.Errorf("%w: phone must be E.164", ErrInvalid)
	}
	if a.CaseNumber != "" && !validCase(a.CaseNumber) {
		return fmt.Errorf("%w: bad case number", ErrInvalid)
	}
	if a.At.IsZero() {
		return fmt.Errorf("%w: attempt without a time", ErrInvalid)
	}
	if err := g.windowCheck(a); err != nil {
		return err
	}
	id := a.ID
	if id == "" {
		if !dry {
			return fmt.Errorf("%w: attempt without an id", ErrInvalid)
		}
		id = "-"
	}
	dryArg := "0"
	if dry {
		dryArg = "1"
	}
	res, err := gateScript.Run(ctx, g.rdb, g.keys(a), a.Phone, a.At.UnixMilli(), CapWindow.Milliseconds(),
		g.cfg.WeeklyCap, id, g.cfg.LiveTTL.Milliseconds(), dryArg).StringSlice()
	if err != nil {
		return fmt.Errorf("outbound: gate: %w", err)
	}
	switch res[0] {
	case "ok":
		return nil
	case "dnc":
		return &RefusedError{Rule: RuleDNC, Detail: "the number is marked do-not-call"}
	case "live":
		return &RefusedError{Rule: RuleLive, Detail: "a call to this debtor is in progress",
			RetryAt: g.NextAllowed(a.At.Add(liveRetry), a.Window)}
	case "cap":
		ms, _ := strconv.ParseInt(res[1], 10, 64)
		free := time.UnixMilli(ms).Add(CapWindow)
		return &RefusedError{Rule: RuleWeeklyCap,
			Detail:  fmt.Sprintf("%d attempts in the last 7 days", g.cfg.WeeklyCap),
			RetryAt: g.NextAllowed(free, a.Window)}
	}
	return fmt.Errorf("outbound: gate: unexpected reply %q", res[0])
}

// liveRetry is how long after a "call in progress" refusal to look again.
const liveRetry = 15 * time.Minute

// Check applies every rule to the attempt without counting it: nil means
// a dial at a.At would be allowed now. Refusals are *RefusedError.
func (g *Gate) Check(ctx context.Context, a Attempt) error { return g.run(ctx, a, true) }

// Acquire applies every rule and, when they pass, atomically counts the
// attempt against the weekly cap and marks the debtor live. Call it right
// before the INVITE and End when the call is over. Acquiring the same
// attempt id twice counts it once.
func (g *Gate) Acquire(ctx context.Context, a Attempt) error { return g.run(ctx, a, false) }

// End clears the live marks the attempt set (if they are still its own).
func (g *Gate) End(ctx context.Context, a Attempt) error {
	k := g.keys(a)
	if err := endScript.Run(ctx, g.rdb, []string{k[3], k[4]}, a.ID).Err(); err != nil {
		return fmt.Errorf("outbound: gate end: %w", err)
	}
	return nil
}

// MarkDNC adds a phone to the do-not-call set.
func (g *Gate) MarkDNC(ctx context.Context, phone string) error {
	if !ValidPhone(phone) {
		return fmt.Errorf("%w: phone must be E.164", ErrInvalid)
	}
	if err := g.rdb.SAdd(ctx, g.prefix+keyDNC, phone).Err(); err != nil {
		return fmt.Errorf("outbound: dnc: %w", err)
	}
	return nil
}

// UnmarkDNC removes a phone from the do-not-call set; it reports whether
// it was there.
func (g *Gate) UnmarkDNC(ctx context.Context, phone string) (bool, error) {
	if !ValidPhone(phone) {
		return false, fmt.Errorf("%w: phone must be E.164", ErrInvalid)
	}
	n, err := g.rdb.SRem(ctx, g.prefix+keyDNC, phone).Result()
	if err != nil {
		return false, fmt.Errorf("outbound: dnc: %w", err)
	}
	return n > 0, nil
}

// IsDNC reports whether the phone is marked do-not-call.
func (g *Gate) IsDNC(ctx context.Context, phone string) (bool, error) {
	ok, err := g.rdb.SIsMember(ctx, g.prefix+keyDNC, phone).Result()
	if err != nil {
		return false, fmt.Errorf("outbound: dnc: %w", err)
	}
	return ok, nil
}
