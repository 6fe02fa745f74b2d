package callbacks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"
)

// bookScript stores a booking atomically: capacity check, slot counter,
// record, due entry and (for a call) the call's pointer, releasing the
// call's previous booking if any.
//
// KEYS: 1 new record, 2 due zset, 3 new slot counter, 4 call pointer (or
// KEYS[1] when not from a call), 5 old record (or KEYS[1]), 6 old slot
// counter (or KEYS[3]).
// ARGV: 1 id, 2 record JSON, 3 due score, 4 capacity, 5 slot counter ttl
// ms, 6 "1" when from a call, 7 call pointer ttl ms, 8 expected call
// pointer value ("" none), 9 "1" to release the old booking, 10 old id,
// 11 old record JSON (status replaced), 12 record ttl ms.
//
// TTLs are relative, computed from the service clock: absolute expiry
// times would mix the injected clock with the server's.
// Returns 1 booked, -1 slot full, -2 the call pointer moved (retry).
var bookScript = redis.NewScript(`
local fromCall = ARGV[6] == '1'
if fromCall then
  local cur = redis.call('GET', KEYS[4]) or ''
  if cur ~= ARGV[8] then return -2 end
end
local release = ARGV[9] == '1'
local same = release and KEYS[6] == KEYS[3]
if not same then
  local n = tonumber(redis.call('GET', KEYS[3]) or '0')
  if n >= tonumber(ARGV[4]) then return -1 end
end
if release then
  redis.call('ZREM', KEYS[2], ARGV[10])
  redis.call('SET', KEYS[5], ARGV[11], 'KEEPTTL')
  if not same then
    local m = tonumber(redis.call('GET', KEYS[6]) or '0')
    if m > 0 then redis.call('DECR', KEYS[6]) end
  end
end
if not same then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[12])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[7], ARGV[3], ARGV[1])
if fromCall then redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[7]) end
return 1
`)

// Book stores a callback for the case at the slot containing at, made
// during call callID. Any time whose [at, at+SlotLength) lies inside
// consultant hours is accepted; capacity is counted per slot. Booking
// again from the same call replaces the call's previous booking and frees
// its slot. Slot problems wrap dialogs.ErrSlotUnavailable.
func (s *Service) Book(ctx context.Context, callID, caseNumber string, at time.Time) error {
	if callID == "" {
		return fmt.Errorf("%w: empty call id", ErrInvalid)
	}
	if err := checkCaseNumber(caseNumber); err != nil {
		return err
	}
	_, err := s.store(ctx, Callback{CallID: callID, CaseNumber: caseNumber, At: at, Source: SourceCall})
	return err
}

// Request is a callback asked for outside a call (web form, API).
type Request struct {
	Phone      string    // E.164 (+48…); required unless CaseNumber is set
	CaseNumber string    // optional
	At         time.Time // wanted time; must fit the consultant hours
	Source     string    // SourceForm or SourceAPI (default SourceAPI)
}

// e164 is an international phone number: +, country code, 8-15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// Schedule validates and stores a callback request. Bad input wraps
// ErrInvalid; slot problems wrap dialogs.ErrSlotUnavailable.
func (s *Service) Schedule(ctx context.Context, r Request) (Callback, error) {
	if r.Source == "" {
		r.Source = SourceAPI
	}
	switch r.Source {
	case SourceForm, SourceAPI, SourceCall:
	default:
		return Callback{}, fmt.Errorf("%w: unknown source %q", ErrInvalid, r.Source)
	}
	if r.Phone == "" && r.CaseNumber == "" {
		return Callback{}, fmt.Errorf("%w: a phone number or a case number is required", ErrInvalid)
	}
	if r.Phone != "" && !e164.MatchString(r.Phone) {
		return Callback{}, fmt.Errorf("%w: phone must be in E.164 form, e.g. +48123456789", ErrInvalid)
	}
	if r.CaseNumber != "" {
		if err := checkCaseNumber(r.CaseNumber); err != nil {
			return Callback{}, err
		}
	}
	return s.store(ctx, Callback{Phone: r.Phone, CaseNumber: r.CaseNumber, At: r.At, Source: r.Source})
}

func checkCaseNumber(cn string) error {
	if cn == "" || len(cn) > maxFieldLen {
		return fmt.Errorf("%w: case number must be 1-%d characters", ErrInvalid, maxFieldLen)
	}
	for _, c := range cn {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("%w: case number has invalid characters", ErrInvalid)
		}
	}
	return nil
}

// store validates cb.At, fills in the record and runs bookScript.
func (s *Service) store(ctx context.Context, cb Callback) (Callback, error) {
	slot, err := s.slotFor(cb.At)
	if err != nil {
		return Callback{}, err
	}
	loc := s.cfg.Hours.Location()
	cb.ID = newID()
	cb.At = cb.At.In(loc)
	cb.Slot = slot.In(loc)
	cb.Status = StatusScheduled
	cb.CreatedAt = s.cfg.Now().In(loc)
	data, err := json.Marshal(cb)
	if err != nil {
		return Callback{}, fmt.Errorf("callbacks: %w", err)
	}
	newRec, newSlot := s.recordKey(cb.ID), s.slotKey(slot)
	now := s.cfg.Now()
	slotTTL := ttlMillis(slot.Add(slotKeyTTL).Sub(now))
	recordTTL := ttlMillis(cb.At.Add(s.cfg.Retention).Sub(now))
	for range maxTries {
		keys := []string{newRec, s.dueKey(), newSlot, newRec, newRec, newSlot, s.allKey()}
		args := []any{
			cb.ID, data, cb.At.Unix(), s.cfg.Capacity, slotTTL,
			"0", ttlMillis(s.cfg.Horizon + callKeyTTL), "", "0", "", "",
			recordTTL,
		}
		if cb.CallID != "" {
			keys[3], args[5] = s.callKey(cb.CallID), "1"
			old, err := s.previous(ctx, cb.CallID)
			if err != nil {
				return Callback{}, err
			}
			if old != nil {
				args[7] = old.ID
				if old.Status == StatusScheduled {
					rel := *old
					rel.Status = StatusReplaced
					oldData, err := json.Marshal(rel)
					if err != nil {
						return Callback{}, fmt.Errorf("callbacks: %w", err)
					}
					keys[4], keys[5] = s.recordKey(old.ID), s.slotKey(old.Slot)
					args[8], args[9], args[10] = "1", old.ID, oldData
				}
			}
		}
		res, err := bookScript.Run(ctx, s.rdb, keys, args...).Int()
		if err != nil {
			return Callback{}, fmt.Errorf("callbacks: book: %w", err)
		}
		switch res {
		case 1:
			return cb, nil
		case -1:
			return Callback{}, fmt.Errorf("callbacks: slot %s: %w",
				cb.Slot.Format("2006-01-02 15:04"), ErrSlotFull)
		}
		// -2: the call booked concurrently; look again.
	}
	return Callback{}, fmt.Errorf("callbacks: book: the call's booking kept changing (%d tries)", maxTries)
}

// previous returns the booking the call made before, if any. The pointer
// may name an expired record; then there is nothing to release, but the
// pointer still guards the compare-and-set (ID set, Status empty).
func (s *Service) previous(ctx context.Context, callID string) (*Callback, error) {
	id, err := s.rdb.Get(ctx, s.callKey(callID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("callbacks: book: %w", err)
	}
	cb, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return &Callback{ID: id}, nil
	}
	if err != nil {
		return nil, err
	}
	return &cb, nil
}

// ttlMillis turns a duration into a positive PX/PEXPIRE argument.
func ttlMillis(d time.Duration) int64 { return max(d.Milliseconds(), 1000) }

func newID() string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Get returns one callback record, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (Callback, error) {
	data, err := s.rdb.Get(ctx, s.recordKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Callback{}, ErrNotFound
	}
	if err != nil {
		return Callback{}, fmt.Errorf("callbacks: get: %w", err)
	}
	var cb Callback
	if err := json.Unmarshal(data, &cb); err != nil {
		return Callback{}, fmt.Errorf("callbacks: get %s: %w", id, err)
	}
	return cb, nil
}

// Update rewrites one record through f, keeping its expiry; the due set
// is not touched (the dialer moves ids itself). Only the holder of the
// callback's lease should call it: the read and the write are not one step.
func (s *Service) Update(ctx context.Context, id string, f func(*Callback)) error {
	cb, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	f(&cb)
	data, err := json.Marshal(cb)
	if err != nil {
		return fmt.Errorf("callbacks: update: %w", err)
	}
	if err := s.rdb.SetArgs(ctx, s.recordKey(id), data, redis.SetArgs{KeepTTL: true, Mode: "XX"}).Err(); err != nil {
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		return fmt.Errorf("callbacks: update: %w", err)
	}
	return nil
}

// List returns the callbacks still waiting to be dialled (in the due
// set) with from <= At < to, in time order. Entries whose record has
// expired are dropped from the due set.
func (s *Service) List(ctx context.Context, from, to time.Time) ([]Callback, error) {
	return s.list(ctx, s.dueKey(), from, to)
}

// ListAll returns every callback booked with from <= At < to, whatever
// its status (scheduled, claimed, dialling, retry, done, failed,
// replaced), in time order, until its record expires (Retention after
// its time).
func (s *Service) ListAll(ctx context.Context, from, to time.Time) ([]Callback, error) {
	return s.list(ctx, s.allKey(), from, to)
}

func (s *Service) list(ctx context.Context, index string, from, to time.Time) ([]Callback, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, index, &redis.ZRangeBy{
		Min: fmt.Sprint(from.Unix()),
		Max: "(" + fmt.Sprint(to.Unix()),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("callbacks: list: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.recordKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("callbacks: list: %w", err)
	}
	out := make([]Callback, 0, len(ids))
	var gone []any
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			gone = append(gone, ids[i])
			continue
		}
		var cb Callback
		if err := json.Unmarshal([]byte(str), &cb); err != nil {
			return nil, fmt.Errorf("callbacks: list: %s: %w", ids[i], err)
		}
		out = append(out, cb)
	}
	if len(gone) > 0 {
		if err := s.rdb.ZRem(ctx, index, gone...).Err(); err != nil {
			return nil, fmt.Errorf("callbacks: list: prune: %w", err)
		}
	}
	return out, nil
}
