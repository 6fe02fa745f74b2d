// Package audit is the assistant's append-only audit trail: verification
// attempts, lockouts, disclosures and other security-relevant events, kept
// in a Redis stream.
//
// The audit stream is the secure record and may hold case numbers; the
// application logs may not. Redis keys (prefix default "hotline:"):
//
//	<prefix>audit   stream; fields type, call, case, at (RFC 3339, ns) + event fields
//
// The stream is capped with an approximate MAXLEN (default 1,000,000
// entries) so it cannot grow without bound; export it elsewhere for
// longer retention.
package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/dialogs"
)

// Key layout, relative to the prefix.
const (
	KeyStream = "audit"
)

// DefaultMaxLen is the default approximate cap on the stream length.
const DefaultMaxLen = 1_000_000

// Event types.
const (
	TypeVerification = "verification" // one verification attempt; field result
	TypeLockout      = "lockout"      // a case was locked for self-service
	TypeUnlock       = "unlock"       // an operator lifted a lock
	TypeDisclosure   = "disclosure"   // a fact about a case was spoken; fields kind, spoken
)

// Reserved stream field names; Event.Fields may not use them.
const (
	fieldType = "type"
	fieldCall = "call"
	fieldCase = "case"
	fieldAt   = "at"
)

// ErrReservedField is returned when Event.Fields uses a reserved name
// (type, call, case, at).
var ErrReservedField = errors.New("audit: reserved field name")

// Event is one audit record.
type Event struct {
	// ID is the stream entry id; set by Read, ignored by Append.
	ID         string
	Type       string
	CallID     string
	CaseNumber string
	Fields     map[string]string
	// At is when it happened; Append uses the clock when zero.
	At time.Time
}

// Log appends events to the audit stream.
type Log struct {
	rdb    redis.UniversalClient
	key    string
	maxLen int64
	now    func() time.Time
}

// NewLog returns a Log writing to <prefix>audit, capped at about maxLen
// entries (DefaultMaxLen when maxLen <= 0).
func NewLog(rdb redis.UniversalClient, prefix string, maxLen int64) *Log {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	return &Log{rdb: rdb, key: prefix + KeyStream, maxLen: maxLen, now: time.Now}
}

// Append adds one event to the stream.
func (l *Log) Append(ctx context.Context, e Event) error {
	args, err := l.xadd(e)
	if err != nil {
		return err
	}
	if err := l.rdb.XAdd(ctx, args).Err(); err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Type, err)
	}
	return nil
}

// AppendAll adds events in one MULTI transaction: all or none are stored.
func (l *Log) AppendAll(ctx context.Context, es []Event) error {
	if len(es) == 0 {
		return nil
	}
	all := make([]*redis.XAddArgs, len(es))
	for i, e := range es {
		args, err := l.xadd(e)
		if err != nil {
			return err
		}
		all[i] = args
	}
	// One key, so MULTI is fine on Redis Cluster too.
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range all {
			p.XAdd(ctx, a)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: append %d events: %w", len(es), err)
	}
	return nil
}

func (l *Log) xadd(e Event) (*redis.XAddArgs, error) {
	if e.Type == "" {
		return nil, errors.New("audit: event without type")
	}
	at := e.At
	if at.IsZero() {
		at = l.now()
	}
	values := []any{
		fieldType, e.Type,
		fieldCall, e.CallID,
		fieldCase, e.CaseNumber,
		fieldAt, at.UTC().Format(time.RFC3339Nano),
	}
	// Sorted so entries are deterministic and diffable.
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		switch k {
		case fieldType, fieldCall, fieldCase, fieldAt:
			return nil, fmt.Errorf("%w: %q", ErrReservedField, k)
		}
		values = append(values, k, e.Fields[k])
	}
	return &redis.XAddArgs{
		Stream: l.key,
		MaxLen: l.maxLen,
		Approx: true, // MAXLEN ~: trims whole macro nodes, cheap
		Values: values,
	}, nil
}

// Read returns the most recent count events (all when count <= 0),
// oldest first. It is meant for tests and the operator API.
func (l *Log) Read(ctx context.Context, count int64) ([]Event, error) {
	var (
		msgs []redis.XMessage
		err  error
	)
	if count <= 0 {
		msgs, err = l.rdb.XRange(ctx, l.key, "-", "+").Result()
	} else {
		msgs, err = l.rdb.XRevRangeN(ctx, l.key, "+", "-", count).Result()
		slices.Reverse(msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, decode(m))
	}
	return out, nil
}

func decode(m redis.XMessage) Event {
	e := Event{ID: m.ID}
	for k, v := range m.Values {
		s, _ := v.(string)
		switch k {
		case fieldType:
			e.Type = s
		case fieldCall:
			e.CallID = s
		case fieldCase:
			e.CaseNumber = s
		case fieldAt:
			e.At, _ = time.Parse(time.RFC3339Nano, s)
		default:
			if e.Fields == nil {
				e.Fields = map[string]string{}
			}
			e.Fields[k] = s
		}
	}
	return e
}

// Verification records one verification attempt and its result
// ("verified", "rejected", "locked").
func (l *Log) Verification(ctx context.Context, callID, caseNumber, result string) error {
	return l.Append(ctx, Event{
		Type: TypeVerification, CallID: callID, CaseNumber: caseNumber,
		Fields: map[string]string{"result": result},
	})
}

// Lockout records that a case was locked for self-service after failures
// failed attempts, until about until.
func (l *Log) Lockout(ctx context.Context, callID, caseNumber string, failures int, until time.Time) error {
	return l.Append(ctx, Event{
		Type: TypeLockout, CallID: callID, CaseNumber: caseNumber,
		Fields: map[string]string{
			"failures": strconv.Itoa(failures),
			"until":    until.UTC().Format(time.RFC3339Nano),
		},
	})
}

// Unlock records that a lock on a case was lifted; by names who did it
// (an operator id, "api", …).
func (l *Log) Unlock(ctx context.Context, caseNumber, by string) error {
	return l.Append(ctx, Event{
		Type: TypeUnlock, CaseNumber: caseNumber,
		Fields: map[string]string{"by": by},
	})
}

// Disclosures records each disclosure made by one spoken sentence: one
// entry per disclosure with its kind and the sentence text, stored
// atomically.
func (l *Log) Disclosures(ctx context.Context, callID string, ds []dialogs.Disclosure, spoken string) error {
	es := make([]Event, len(ds))
	for i, d := range ds {
		es[i] = Event{
			Type: TypeDisclosure, CallID: callID, CaseNumber: d.CaseNumber, At: d.At,
			Fields: map[string]string{"kind": string(d.Kind), "spoken": spoken},
		}
	}
	return l.AppendAll(ctx, es)
}
