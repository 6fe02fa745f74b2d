// Package verify checks a caller's identity (case number + date of birth)
// and locks a case for self-service after too many failed attempts.
//
// Rules: the date of birth is given as DDMMYYYY and compared in constant
// time. A case with MaxFailures or more failed attempts within Window is
// locked for LockFor; the lock is set by the attempt that crosses the
// threshold and audited once. While locked, the right date gives
// VerdictLocked and a wrong one VerdictRejected, so only someone who knows
// the correct pair learns about the lock. An unknown case number is
// rejected exactly like a wrong date, and its failures are counted the
// same way, so the answers never reveal whether a case exists. Every
// attempt is written to the audit stream.
//
// Key layout (prefix default "hotline:"); the {case} hash tag keeps both
// keys of a case in one Redis Cluster slot for the counting script:
//
//	<prefix>verify:{<case>}:fails   zset of failed attempts, score = unix ms; trimmed to Window, TTL Window
//	<prefix>verify:{<case>}:lock    lock marker (value: unix ms locked at), TTL LockFor
package verify

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/dialogs"
)

var _ dialogs.Verifier = (*Service)(nil)

// Key patterns, relative to the prefix; %s is the case number.
const (
	KeyFails = "verify:{%s}:fails"
	KeyLock  = "verify:{%s}:lock"
)

// Results written to the audit stream.
const (
	ResultVerified = "verified"
	ResultRejected = "rejected"
	ResultLocked   = "locked"
)

// maxCaseNumberLen bounds what is used in a Redis key; longer input cannot
// be a case number.
const maxCaseNumberLen = 64

// dobLayout is how a birth date is spoken/keyed: DDMMYYYY.
const dobLayout = "02012006"

// BirthDates looks up the date of birth on a case. A missing case is an
// error wrapping dialogs.ErrCaseNotFound.
type BirthDates interface {
	BirthDate(ctx context.Context, caseNumber string) (time.Time, error)
}

// Auditor is the part of the audit log verify writes to (*audit.Log).
type Auditor interface {
	Verification(ctx context.Context, callID, caseNumber, result string) error
	Lockout(ctx context.Context, callID, caseNumber string, failures int, until time.Time) error
	Unlock(ctx context.Context, caseNumber, by string) error
}

// Config tunes the lockout policy. Zero fields take the defaults.
type Config struct {
	MaxFailures int           // failures within Window that lock the case (5)
	Window      time.Duration // how long a failure counts (24h)
	LockFor     time.Duration // how long a lock lasts (24h)
	// Now is the clock (time.Now when nil); failures are timestamped with it.
	Now func() time.Time
	// Logger gets operational messages, never case numbers or dates.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.Window <= 0 {
		c.Window = 24 * time.Hour
	}
	if c.LockFor <= 0 {
		c.LockFor = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// failScript records one failure and locks the case when the threshold is
// crossed, atomically, so concurrent failures lock exactly once.
// KEYS[1] fails zset, KEYS[2] lock; ARGV[1] now ms, ARGV[2] member,
// ARGV[3] window ms, ARGV[4] max failures, ARGV[5] lock ttl ms.
// Returns {failures in window, 1 if this call set the lock else 0}.
var failScript = redis.NewScript(`
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
local locked = 0
if n >= tonumber(ARGV[4]) then
  if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[5]) then locked = 1 end
end
return {n, locked}
`)

// Service implements dialogs.Verifier on Redis.
type Service struct {
	rdb    redis.UniversalClient
	prefix string
	dates  BirthDates
	audit  Auditor
	cfg    Config
}

// New returns a verification service.
func New(rdb redis.UniversalClient, prefix string, dates BirthDates, audit Auditor, cfg Config) *Service {
	return &Service{rdb: rdb, prefix: prefix, dates: dates, audit: audit, cfg: cfg.withDefaults()}
}

func (s *Service) failsKey(cn string) string { return s.prefix + fmt.Sprintf(KeyFails, cn) }
func (s *Service) lockKey(cn string) string  { return s.prefix + fmt.Sprintf(KeyLock, cn) }

// validCaseNumber keeps arbitrary input out of key names: printable ASCII
// without spaces or braces (braces would break the cluster hash tag).
func validCaseNumber(cn string) bool {
	if cn == "" || len(cn) > maxCaseNumberLen {
		return false
	}
	for i := 0; i < len(cn); i++ {
		c := cn[i]
		if c <= ' ' || c > '~' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// Verify checks the pair. Errors are infrastructure failures (Redis, case
// store, audit); the verdict is then VerdictRejected and must not be
// taken as an answer.
func (s *Service) Verify(ctx context.Context, callID, caseNumber, birthDate string) (dialogs.Verdict, error) {
	if !validCaseNumber(caseNumber) {
		// Cannot be a case; nothing to count or lock, but still on record.
		return dialogs.VerdictRejected, s.record(ctx, callID, caseNumber, ResultRejected)
	}
	known := true
	dob, err := s.dates.BirthDate(ctx, caseNumber)
	switch {
	case errors.Is(err, dialogs.ErrCaseNotFound):
		known = false
	case err != nil:
		return dialogs.VerdictRejected, fmt.Errorf("verify: birth date lookup: %w", err)
	}
	// Always compare against something so an unknown case takes the same path.
	want := "\x00\x00\x00\x00\x00\x00\x00\x00"
	if known {
		want = dob.Format(dobLayout)
	}
	match := subtle.ConstantTimeCompare([]byte(want), []byte(birthDate)) == 1 && known

	if match {
		locked, err := s.Locked(ctx, caseNumber)
		if err != nil {
			return dialogs.VerdictRejected, err
		}
		if locked {
			return dialogs.VerdictLocked, s.record(ctx, callID, caseNumber, ResultLocked)
		}
		if err := s.record(ctx, callID, caseNumber, ResultVerified); err != nil {
			// No verified verdict without its audit record.
			return dialogs.VerdictRejected, err
		}
		return dialogs.VerdictVerified, nil
	}

	if err := s.fail(ctx, callID, caseNumber); err != nil {
		return dialogs.VerdictRejected, err
	}
	return dialogs.VerdictRejected, s.record(ctx, callID, caseNumber, ResultRejected)
}

// fail counts one failed attempt and audits the lockout if this attempt
// locked the case.
func (s *Service) fail(ctx context.Context, callID, caseNumber string) error {
	now := s.cfg.Now()
	res, err := failScript.Run(ctx, s.rdb,
		[]string{s.failsKey(caseNumber), s.lockKey(caseNumber)},
		now.UnixMilli(), member(now), s.cfg.Window.Milliseconds(),
		s.cfg.MaxFailures, s.cfg.LockFor.Milliseconds(),
	).Int64Slice()
	if err != nil {
		return fmt.Errorf("verify: count failure: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("verify: count failure: unexpected reply %v", res)
	}
	if res[1] == 1 {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "verify: case locked for self-service",
			slog.String("call", callID), slog.Int64("failures", res[0]))
		if err := s.audit.Lockout(ctx, callID, caseNumber, int(res[0]), now.Add(s.cfg.LockFor)); err != nil {
			return fmt.Errorf("verify: audit lockout: %w", err)
		}
	}
	return nil
}

// member makes a failure's zset member unique even for attempts in the
// same millisecond.
func member(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%d-%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

func (s *Service) record(ctx context.Context, callID, caseNumber, result string) error {
	if err := s.audit.Verification(ctx, callID, caseNumber, result); err != nil {
		return fmt.Errorf("verify: audit: %w", err)
	}
	return nil
}

// Locked reports whether the case is locked for self-service.
func (s *Service) Locked(ctx context.Context, caseNumber string) (bool, error) {
	if !validCaseNumber(caseNumber) {
		return false, nil
	}
	n, err := s.rdb.Exists(ctx, s.lockKey(caseNumber)).Result()
	if err != nil {
		return false, fmt.Errorf("verify: lock check: %w", err)
	}
	return n == 1, nil
}

// Failures returns the number of failed attempts on the case within the
// window.
func (s *Service) Failures(ctx context.Context, caseNumber string) (int64, error) {
	if !validCaseNumber(caseNumber) {
		return 0, nil
	}
	from := s.cfg.Now().Add(-s.cfg.Window).UnixMilli()
	n, err := s.rdb.ZCount(ctx, s.failsKey(caseNumber), fmt.Sprint(from), "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("verify: failures: %w", err)
	}
	return n, nil
}

// Unlock lifts a lock and forgets the case's failures: an operator action,
// audited as done by "operator".
func (s *Service) Unlock(ctx context.Context, caseNumber string) error {
	return s.UnlockBy(ctx, caseNumber, "operator")
}

// UnlockBy is Unlock with the audit record naming who (an operator id).
func (s *Service) UnlockBy(ctx context.Context, caseNumber, by string) error {
	if !validCaseNumber(caseNumber) {
		return fmt.Errorf("verify: unlock: invalid case number")
	}
	if err := s.rdb.Del(ctx, s.lockKey(caseNumber), s.failsKey(caseNumber)).Err(); err != nil {
		return fmt.Errorf("verify: unlock: %w", err)
	}
	if err := s.audit.Unlock(ctx, caseNumber, by); err != nil {
		return fmt.Errorf("verify: audit unlock: %w", err)
	}
	return nil
}
