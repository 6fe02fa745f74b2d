// Package callbacks offers and books callback slots: times when a
// consultant (or the dialer) calls a debtor back. Slots follow the
// consultant hours (public holidays closed), have a fixed length and a
// capacity, and are booked atomically so a slot is never overbooked.
//
// Key layout (prefix default "hotline:"):
//
//	<prefix>callback:<id>            callback record (JSON), expires Retention after its time
//	<prefix>callbacks:due            zset of scheduled callback ids, score = unix seconds of At
//	<prefix>callbacks:all            zset of every booked callback id (any status), score = unix seconds of At
//	<prefix>callbacks:slot:<unix>    bookings in the slot starting at <unix> seconds; expires a day after it
//	<prefix>callbacks:call:<call id> id of the booking made from that call (rebooking replaces it)
//
// Booking runs one Lua script over several of these keys. That is atomic
// on a single server; on Redis Cluster give the whole deployment a prefix
// with a hash tag (e.g. "{hotline}:") so the keys share a slot.
package callbacks

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/dialogs"
)

var _ dialogs.Callbacks = (*Service)(nil)

// Key layout, relative to the prefix.
const (
	KeyCallback = "callback:"       // + id
	KeyDue      = "callbacks:due"   // zset id → unix seconds
	KeyAll      = "callbacks:all"   // zset id → unix seconds of every booking, for listing
	KeySlot     = "callbacks:slot:" // + unix seconds of the slot start
	KeyCall     = "callbacks:call:" // + call id
)

// DefaultHours are the consultant hours used when Config.Hours is zero.
const DefaultHours = "mon-fri 09:00-17:00"

const (
	slotKeyTTL  = 24 * time.Hour // a slot counter outlives its slot by this
	callKeyTTL  = 24 * time.Hour // a call's booking pointer outlives the horizon by this
	maxTries    = 5              // optimistic retries when a call rebooks concurrently
	scanBatch   = 64             // slot counters fetched per MGET
	idBytes     = 8              // random bytes in a callback id
	maxFieldLen = 64             // longest case number accepted
)

// BookingGrace lets a caller take a few minutes to pick an offered slot:
// Book accepts slots down to LeadTime-BookingGrace from now, while Slots
// only offers slots at least LeadTime away.
const BookingGrace = 10 * time.Minute

// Sources of a callback request.
const (
	SourceCall = "call" // booked by the caller during a call
	SourceForm = "form" // the public web form
	SourceAPI  = "api"  // the operator API
)

// Statuses of a callback record.
const (
	StatusScheduled = "scheduled"
	StatusReplaced  = "replaced" // the same call booked another slot
	// Set by the dialer (assistant/outbound) as it works the callback.
	StatusClaimed  = "claimed"  // an instance holds a lease on it
	StatusDialling = "dialling" // the call is being placed or is live
	StatusRetry    = "retry"    // back in the due set for another attempt
	StatusDone     = "done"     // the debtor was reached (or it ended for good)
	StatusFailed   = "failed"   // no more attempts allowed
	// StatusConsultant: due, and handed to the consultants to call
	// (outbound.callbacks_to: consultants); it leaves the due set until
	// a consultant reports or gives it back.
	StatusConsultant = "consultant"
)

// Sentinel errors; slot problems wrap dialogs.ErrSlotUnavailable.
var (
	ErrNotFound = errors.New("callbacks: not found")
	ErrInvalid  = errors.New("callbacks: invalid request")
	// ErrSlotFull: the slot is valid but has no capacity left (it wraps
	// dialogs.ErrSlotUnavailable, so callers that do not care see that).
	ErrSlotFull = fmt.Errorf("callbacks: slot full: %w", dialogs.ErrSlotUnavailable)
)

// Callback is one stored callback.
type Callback struct {
	ID         string    `json:"id"`
	CallID     string    `json:"call_id,omitempty"`
	CaseNumber string    `json:"case_number,omitempty"`
	Phone      string    `json:"phone,omitempty"` // E.164
	At         time.Time `json:"at"`
	Slot       time.Time `json:"slot"` // start of the slot At falls in (capacity accounting)
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	Attempts   int       `json:"attempts,omitempty"` // dial attempts made (assistant/outbound)
	Outcome    string    `json:"outcome,omitempty"`  // outcome of the last attempt
}

// Config tunes the slots. Zero fields take the defaults.
type Config struct {
	// Hours are the consultant hours (default "mon-fri 09:00-17:00" in
	// Location). Slots and bookings are evaluated in Hours.Location().
	Hours      calendar.Hours
	Location   *time.Location // default Europe/Warsaw
	SlotLength time.Duration  // 30m
	Capacity   int            // bookings per slot, 5
	LeadTime   time.Duration  // earliest slot offered: now + LeadTime (1h)
	Horizon    time.Duration  // latest slot: now + Horizon (14 days)
	Retention  time.Duration  // records are kept this long after their time (90 days)
	// Now is the clock Book and Schedule validate against (time.Now when nil).
	Now func() time.Time
}

// Service implements dialogs.Callbacks on Redis.
type Service struct {
	rdb    redis.UniversalClient
	prefix string
	cfg    Config
}

// New returns a callback service.
func New(rdb redis.UniversalClient, prefix string, cfg Config) (*Service, error) {
	if cfg.Location == nil {
		cfg.Location = calendar.Warsaw()
	}
	if cfg.Hours.IsZero() {
		h, err := calendar.ParseHours(cfg.Location, DefaultHours)
		if err != nil {
			return nil, fmt.Errorf("callbacks: default hours: %w", err)
		}
		cfg.Hours = h
	}
	if cfg.SlotLength <= 0 {
		cfg.SlotLength = 30 * time.Minute
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 5
	}
	if cfg.LeadTime <= 0 {
		cfg.LeadTime = time.Hour
	}
	if cfg.Horizon <= 0 {
		cfg.Horizon = 14 * 24 * time.Hour
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 90 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SlotLength%time.Minute != 0 {
		return nil, fmt.Errorf("callbacks: slot length %v is not whole minutes", cfg.SlotLength)
	}
	return &Service{rdb: rdb, prefix: prefix, cfg: cfg}, nil
}

// SlotLength is the length of one slot (a callback at a slot start is
// expected within [start, start+SlotLength)).
func (s *Service) SlotLength() time.Duration { return s.cfg.SlotLength }

// Location is the time zone slots are evaluated in.
func (s *Service) Location() *time.Location { return s.cfg.Hours.Location() }

func (s *Service) recordKey(id string) string { return s.prefix + KeyCallback + id }
func (s *Service) dueKey() string             { return s.prefix + KeyDue }
func (s *Service) allKey() string             { return s.prefix + KeyAll }
func (s *Service) callKey(id string) string   { return s.prefix + KeyCall + id }
func (s *Service) slotKey(start time.Time) string {
	return s.prefix + KeySlot + strconv.FormatInt(start.Unix(), 10)
}

// candidates yields slot starts in [from, until] that lie wholly inside
// the hours, in time order.
func (s *Service) candidates(from, until time.Time) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		loc := s.cfg.Hours.Location()
		y, m, d := from.In(loc).Date()
		for i := 0; ; i++ {
			// Midnight is never inside a Polish DST gap (those are at 02:00).
			day := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
			if day.After(until) {
				return
			}
			for _, sp := range s.cfg.Hours.Spans(day) {
				for st := sp.Start; !st.Add(s.cfg.SlotLength).After(sp.End); st = st.Add(s.cfg.SlotLength) {
					if st.Before(from) {
						continue
					}
					if st.After(until) {
						return
					}
					if !yield(st) {
						return
					}
				}
			}
		}
	}
}

// Slots returns up to n next slot starts that are open for booking: the
// whole slot inside consultant hours (holidays closed), starting at least
// LeadTime after now and at most Horizon after it, with capacity left.
func (s *Service) Slots(ctx context.Context, now time.Time, n int) ([]time.Time, error) {
	if n <= 0 {
		return nil, nil
	}
	var out, batch []time.Time
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		keys := make([]string, len(batch))
		for i, st := range batch {
			keys[i] = s.slotKey(st)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return fmt.Errorf("callbacks: slots: %w", err)
		}
		for i, v := range vals {
			if len(out) == n {
				break
			}
			if booked(v) < s.cfg.Capacity {
				out = append(out, batch[i])
			}
		}
		batch = batch[:0]
		return nil
	}
	for st := range s.candidates(now.Add(s.cfg.LeadTime), now.Add(s.cfg.Horizon)) {
		batch = append(batch, st)
		if len(batch) == scanBatch {
			if err := flush(); err != nil {
				return nil, err
			}
			if len(out) == n {
				return out, nil
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// booked parses a slot counter from MGET (nil when absent).
func booked(v any) int {
	str, _ := v.(string)
	n, _ := strconv.Atoi(str)
	return n
}

// slotFor validates at against the hours, lead time and horizon and
// returns the start of its slot. Errors wrap dialogs.ErrSlotUnavailable.
func (s *Service) slotFor(at time.Time) (time.Time, error) {
	now := s.cfg.Now()
	unavailable := func(why string) error {
		return fmt.Errorf("callbacks: %s %s: %w", at.In(s.cfg.Hours.Location()).Format("2006-01-02 15:04"), why, dialogs.ErrSlotUnavailable)
	}
	switch {
	case at.IsZero():
		return time.Time{}, fmt.Errorf("callbacks: no time given: %w", dialogs.ErrSlotUnavailable)
	case at.Before(now.Add(s.cfg.LeadTime - BookingGrace)):
		return time.Time{}, unavailable("is too soon")
	case at.After(now.Add(s.cfg.Horizon)):
		return time.Time{}, unavailable("is beyond the booking horizon")
	case !s.cfg.Hours.Within(at, at.Add(s.cfg.SlotLength)):
		return time.Time{}, unavailable("is outside consultant hours")
	}
	for _, sp := range s.cfg.Hours.Spans(at) {
		if !at.Before(sp.Start) && at.Before(sp.End) {
			k := at.Sub(sp.Start) / s.cfg.SlotLength
			return sp.Start.Add(k * s.cfg.SlotLength), nil
		}
	}
	// Within said yes, so a span contains at.
	return time.Time{}, unavailable("is outside consultant hours")
}
