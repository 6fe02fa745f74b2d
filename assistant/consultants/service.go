package consultants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/dialogs"
	"hotline/telephony"
)

// Key layout, relative to the prefix (default "hotline:"):
//
//	<prefix>consultants:presence:<user>  hash {state, name, since, call}; PEXPIREs unless heartbeats renew it
//	<prefix>consultants:users            zset user → when they last became available (unix ms): fairness order
//	<prefix>consultants:queue            zset call id → enqueued at (unix ms): the waiting callers, FIFO
//	<prefix>consultants:call:<id>        hash {state, consultant, enqueued_at, offered_at, popup, instance, outcome}
//	<prefix>consultants:calls            zset call id → enqueued at: the index the supervisor view reads
//	<prefix>consultants:notes:<id>       list of notes (JSON), same TTL as the call hash
//	<prefix>consultants:events           pub/sub channel of Event (JSON)
//	<prefix>consultants:relay            pub/sub channel of answers relayed to the caller's instance (relay.go)
//	<prefix>consultants:answer:<req>     list: the reply to one relayed answer; EXPIREs unread
//
// The claim, answer, requeue and abandon steps are Lua scripts, so two
// instances (or two consultants) racing for the same caller cannot both
// win. They name the call hash from an argument, which is fine on a
// single Redis server and on Sentinel; Redis Cluster would need the
// queue and the call hashes under one hash tag.
const (
	keyPresence = "consultants:presence:"
	keyUsers    = "consultants:users"
	keyQueue    = "consultants:queue"
	keyCall     = "consultants:call:"
	keyCalls    = "consultants:calls"
	keyNotes    = "consultants:notes:"
	keyEvents   = "consultants:events"
	keyRelay    = "consultants:relay"
	keyAnswer   = "consultants:answer:"
)

// callsIndexCap bounds the supervisor index.
const callsIndexCap = 10_000

// State is a consultant's presence.
type State string

// Presence states. Offline is the absence of a presence record (it
// expired, or the consultant logged out).
const (
	Available State = "available" // may be offered a caller
	Busy      State = "busy"      // ringing or talking (Presence.Call says which)
	Away      State = "away"      // logged in, not taking calls (also after a missed offer)
	Offline   State = "offline"
)

// Call states in the queue.
const (
	CallWaiting   = "waiting"   // in the queue
	CallOffered   = "offered"   // ringing at one consultant
	CallConnected = "connected" // the consultant answered
	CallEnded     = "ended"     // over (Outcome says how)
)

// Sentinel errors callers branch on.
var (
	// ErrNotOffered: the call is not (or no longer) offered to or
	// connected with this consultant.
	ErrNotOffered = errors.New("consultants: call not offered to this consultant")
	// ErrTimeout: nobody took the caller within the queue timeout.
	ErrTimeout = errors.New("consultants: nobody answered in time")
	// ErrElsewhere: the caller's call is served by another instance of
	// the service; media cannot be bridged across instances, so the
	// answer is relayed there (RelayAnswer).
	ErrElsewhere = errors.New("consultants: the call is on another instance")
	// ErrBadState: a presence state a consultant cannot set.
	ErrBadState = errors.New("consultants: unknown presence state")
)

// Names looks up a debtor's name for the screen-pop (cases.Book).
type Names interface {
	DebtorName(ctx context.Context, caseNumber string) (string, error)
}

// Options tune a Service.
type Options struct {
	// Hours are the consultants' working hours; transfers are offered
	// only while they are open.
	Hours calendar.Hours
	// QueueWithoutConsultants offers a transfer (the caller waits in the
	// queue) even when no consultant is available right now.
	QueueWithoutConsultants bool
	// QueueTimeout is how long a caller waits before the assistant offers
	// a callback instead (60 s).
	QueueTimeout time.Duration
	// RingTimeout is how long an offer rings at one consultant before the
	// caller goes back to the head of the queue and the consultant is set
	// away (20 s).
	RingTimeout time.Duration
	// PresenceTTL is how long a presence lasts without a heartbeat (30 s).
	PresenceTTL time.Duration
	// CallTTL is how long call records and notes are kept (24 h).
	CallTTL time.Duration
	// Poll is how often a waiting caller checks its place (1 s).
	Poll     time.Duration
	Names    Names    // optional: debtor names for the screen-pop
	Observer Observer // optional: metrics
	Now      func() time.Time
}

// Observer is told how callers' waits end, for metrics
// (assistant/telemetry.Metrics implements it). It must not block.
type Observer interface {
	// ObserveQueueWait: a caller waited d from joining the queue until
	// result: "answered", "timeout" or "abandoned".
	ObserveQueueWait(result string, d time.Duration)
}

// Wait results told to the Observer.
const (
	WaitAnswered  = "answered"
	WaitTimeout   = "timeout"
	WaitAbandoned = "abandoned"
)

// Service is presence, the waiting queue and the offers, shared by every
// instance through Redis. It implements dialogs.Consultants.
type Service struct {
	rdb      redis.UniversalClient
	prefix   string
	opt      Options
	log      *slog.Logger
	instance string

	mu        sync.Mutex
	waiters   map[string]*waiter       // callers waiting or bridged on this instance
	legs      map[string]telephony.Leg // consultants' legs accepted on this instance
	subs      map[*subscriber]struct{} // local listeners (console sockets)
	answer    AnswerHandler            // answers relayed here (HandleAnswers)
	relays    sync.WaitGroup           // relayed answers being handled
	ready     chan struct{}            // closed once Run is subscribed
	readyOnce sync.Once
}

var _ dialogs.Consultants = (*Service)(nil)

// New returns a Service. Run must be running for events and cross-instance
// control (back to the assistant, hang-up) to arrive.
func New(rdb redis.UniversalClient, prefix string, opt Options, log *slog.Logger) *Service {
	if opt.QueueTimeout <= 0 {
		opt.QueueTimeout = 60 * time.Second
	}
	if opt.RingTimeout <= 0 {
		opt.RingTimeout = 20 * time.Second
	}
	if opt.PresenceTTL <= 0 {
		opt.PresenceTTL = 30 * time.Second
	}
	if opt.CallTTL <= 0 {
		opt.CallTTL = 24 * time.Hour
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Service{
		rdb: rdb, prefix: prefix, opt: opt, log: log, instance: hex.EncodeToString(b[:]),
		ready: make(chan struct{}), waiters: map[string]*waiter{}, legs: map[string]telephony.Leg{}, subs: map[*subscriber]struct{}{},
	}
}

// QueueTimeout is how long callers wait.
func (s *Service) QueueTimeout() time.Duration { return s.opt.QueueTimeout }

// PresenceTTL is how long a presence lasts without a heartbeat.
func (s *Service) PresenceTTL() time.Duration { return s.opt.PresenceTTL }

// Available reports whether the assistant may offer a transfer at now:
// within the consultants' hours, and someone is available or callers may
// wait in the queue. A Redis failure counts as nobody available.
func (s *Service) Available(ctx context.Context, now time.Time) bool {
	if !s.opt.Hours.Open(now) {
		return false
	}
	if s.opt.QueueWithoutConsultants {
		return true
	}
	ps, err := s.Presences(ctx)
	if err != nil {
		s.log.Warn("consultants: presence unavailable", "err", err)
		return false
	}
	return slices.ContainsFunc(ps, func(p Presence) bool { return p.State == Available })
}

// Presence is one consultant's state.
type Presence struct {
	User  string    `json:"user"`
	Name  string    `json:"name"`
	State State     `json:"state"`
	Since time.Time `json:"since"`
	Call  string    `json:"call,omitempty"` // Busy: the call ringing or connected
}

func (s *Service) presenceKey(user string) string { return s.prefix + keyPresence + user }
func (s *Service) callKey(id string) string       { return s.prefix + keyCall + id }
func (s *Service) notesKey(id string) string      { return s.prefix + keyNotes + id }
func (s *Service) ms(t time.Time) int64           { return t.UnixMilli() }

// setPresenceScript sets a consultant's state unless they are busy with a
// call (the call's end frees them). KEYS[1] presence, KEYS[2] users zset;
// ARGV[1] user, ARGV[2] state, ARGV[3] name, ARGV[4] now ms, ARGV[5] ttl ms.
// Returns the state now stored.
var setPresenceScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'state')
if cur == 'busy' and ARGV[2] ~= 'offline' then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return cur
end
if ARGV[2] == 'offline' then
  redis.call('DEL', KEYS[1])
  return 'offline'
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'name', ARGV[3], 'since', ARGV[4], 'call', '')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if ARGV[2] == 'available' and cur ~= 'available' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
elseif redis.call('ZSCORE', KEYS[2], ARGV[1]) == false then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
return ARGV[2]
`)

// SetPresence sets user's state (available, away or offline). A busy
// consultant stays busy until the call ends. It returns the state stored.
func (s *Service) SetPresence(ctx context.Context, user, name string, st State) (State, error) {
	switch st {
	case Available, Away, Offline:
	default:
		return "", fmt.Errorf("%w: %q", ErrBadState, st)
	}
	got, err := setPresenceScript.Run(ctx, s.rdb,
		[]string{s.presenceKey(user), s.prefix + keyUsers},
		user, string(st), name, s.ms(s.opt.Now()), s.opt.PresenceTTL.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("consultants: set presence: %w", err)
	}
	s.publish(ctx, Event{Type: EventPresence, User: user, State: State(got)})
	if State(got) == Available {
		s.Dispatch(ctx)
	}
	return State(got), nil
}

// Heartbeat keeps user's presence alive; without heartbeats it expires
// after PresenceTTL and the consultant counts as offline.
func (s *Service) Heartbeat(ctx context.Context, user string) error {
	if err := s.rdb.PExpire(ctx, s.presenceKey(user), s.opt.PresenceTTL).Err(); err != nil {
		return fmt.Errorf("consultants: heartbeat: %w", err)
	}
	return nil
}

// PresenceOf returns one consultant's state (Offline when none).
func (s *Service) PresenceOf(ctx context.Context, user string) (Presence, error) {
	m, err := s.rdb.HGetAll(ctx, s.presenceKey(user)).Result()
	if err != nil {
		return Presence{}, fmt.Errorf("consultants: presence: %w", err)
	}
	return presenceFrom(user, m), nil
}

func presenceFrom(user string, m map[string]string) Presence {
	p := Presence{User: user, Name: m["name"], State: State(m["state"]), Call: m["call"]}
	if p.State == "" {
		p.State = Offline
	}
	if ms, err := strconv.ParseInt(m["since"], 10, 64); err == nil {
		p.Since = time.UnixMilli(ms).UTC()
	}
	return p
}

// QueueStats counts the callers waiting in the queue (not yet offered)
// and the known consultants by presence state (every state present,
// zero or not), across all instances.
func (s *Service) QueueStats(ctx context.Context) (waiting int64, presence map[string]int64, err error) {
	waiting, err = s.rdb.ZCard(ctx, s.prefix+keyQueue).Result()
	if err != nil {
		return 0, nil, fmt.Errorf("consultants: queue length: %w", err)
	}
	ps, err := s.Presences(ctx)
	if err != nil {
		return 0, nil, err
	}
	presence = map[string]int64{string(Available): 0, string(Busy): 0, string(Away): 0, string(Offline): 0}
	for _, p := range ps {
		presence[string(p.State)]++
	}
	return waiting, presence, nil
}

// Presences lists every known consultant, longest-available first.
func (s *Service) Presences(ctx context.Context) ([]Presence, error) {
	users, err := s.rdb.ZRange(ctx, s.prefix+keyUsers, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("consultants: presences: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(users))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.HGetAll(ctx, s.presenceKey(u))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consultants: presences: %w", err)
	}
	out := make([]Presence, len(users))
	for i, u := range users {
		out[i] = presenceFrom(u, cmds[i].Val())
	}
	return out, nil
}
