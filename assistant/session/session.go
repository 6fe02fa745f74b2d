// Package session keeps one versioned JSON session per call in Redis: the
// dialog state, transcript and disclosures, written with compare-and-set
// so two turns of the same call can never overwrite each other.
//
// Key layout (prefix default "hotline:"):
//
//	<prefix>session:{<id>}        hash {v: version, data: session JSON}, TTL refreshed on every write
//	<prefix>session:{<id>}:lines  list of transcript lines (JSON), appended by Save, same TTL
//	<prefix>sessions              zset of session ids scored by start time (unix ms): the index List reads
//
// The transcript is a list beside the state rather than a field of it:
// a turn reads and rewrites only the small state, and appends its lines,
// so a long call does not cost more per turn as it grows. The braces are a
// Redis Cluster hash tag that keeps both keys of a call in one slot, as
// the save script needs.
//
// Why a Lua script and not WATCH/MULTI: the compare-and-set touches one
// key, so a script is atomic on a single server and on Redis Cluster alike,
// costs one round trip (EVALSHA), and needs no dedicated connection. With
// WATCH the client must pin a connection for the WATCH…EXEC sequence, pay
// three round trips, and retry whenever any other write touches the key.
//
// The index is a separate key (another cluster slot), so it is maintained
// best-effort: List drops entries whose session has expired, and Create
// caps the index at IndexCap entries.
package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bytedance/sonic"
	"github.com/redis/go-redis/v9"

	"hotline/dialogs"
)

// Key layout, relative to the prefix.
const (
	KeySession = "session:" // + "{id}": hash {v, data}; + "{id}:lines": list
	KeyIndex   = "sessions" // zset id → started at (unix ms)
)

// IndexCap bounds the index so it cannot grow without bound when List is
// never called; the oldest entries go first.
const IndexCap = 100_000

// Sentinel errors.
var (
	// ErrNotFound: no session with that id (never created, or expired).
	ErrNotFound = errors.New("session: not found")
	// ErrExists: Create with an id already in use.
	ErrExists = errors.New("session: already exists")
	// ErrConflict: Save lost a race; the stored version moved on. Load
	// again and redo the change.
	ErrConflict = errors.New("session: version conflict")
)

// Speakers in a transcript Line.
const (
	WhoCaller = "caller"
	WhoBot    = "bot"
	WhoSystem = "system"
)

// Line is one transcript entry.
type Line struct {
	At   time.Time `json:"at"`
	Who  string    `json:"who"` // WhoCaller, WhoBot or WhoSystem
	Text string    `json:"text"`
}

// Session is the persisted state of one call. Field names are the stored
// format: add fields, never rename them.
type Session struct {
	ID          string               `json:"id"`
	Version     int64                `json:"version"`
	Direction   string               `json:"direction"` // "inbound" | "outbound"
	Leg         string               `json:"leg"`       // "chat" | "sip" | "webrtc"
	StartedAt   time.Time            `json:"started_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
	EndedAt     time.Time            `json:"ended_at,omitzero"`
	Dialog      dialogs.State        `json:"dialog"`
	Disclosures []dialogs.Disclosure `json:"disclosures,omitempty"`
	Termination string               `json:"termination,omitempty"`

	// Transcript is the call's transcript: filled by LoadFull (Load
	// leaves it empty), extended by Append. It is stored as a list beside
	// the state, not in the state's JSON.
	Transcript []Line `json:"-"`
	// added are the lines appended since the last Save.
	added []Line
}

// Append adds transcript lines; Save stores them.
func (s *Session) Append(lines ...Line) {
	s.Transcript = append(s.Transcript, lines...)
	s.added = append(s.added, lines...)
}

// Ended reports whether the call is over.
func (s *Session) Ended() bool { return !s.EndedAt.IsZero() }

// createScript stores version 1 unless the key exists.
// KEYS[1] session key; ARGV[1] data, ARGV[2] ttl ms. Returns 1, or 0 if taken.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', 1, 'data', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// saveScript is the compare-and-set, appending the turn's transcript
// lines in the same atomic step.
// KEYS[1] session key, KEYS[2] its lines list; ARGV[1] expected version,
// ARGV[2] data, ARGV[3] ttl ms, ARGV[4…] lines to append.
// Returns the new version, -1 if the session is missing, -2 on conflict.
var saveScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return -1 end
if tonumber(v) ~= tonumber(ARGV[1]) then return -2 end
local nv = tonumber(v) + 1
redis.call('HSET', KEYS[1], 'v', nv, 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if #ARGV > 3 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 4))
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return nv
`)

// codec encodes sessions. Sessions are decoded and encoded on every turn
// of every call, and encoding/json was a fifth of a turn's CPU; sonic
// (already in the build through eino) in its std-compatible mode writes
// the same JSON several times faster.
var codec = sonic.ConfigStd

// Store reads and writes sessions.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	now    func() time.Time
}

// NewStore returns a Store whose sessions expire ttl after their last
// write (at least one second).
func NewStore(rdb redis.UniversalClient, prefix string, ttl time.Duration) *Store {
	return &Store{rdb: rdb, prefix: prefix, ttl: max(ttl, time.Second), now: utcNow}
}

func (s *Store) key(id string) string { return s.prefix + KeySession + "{" + id + "}" }

func (s *Store) linesKey(id string) string { return s.key(id) + ":lines" }

// utcNow is the default clock; UTC keeps stored timestamps uniform.
func utcNow() time.Time { return time.Now().UTC() }

// Create stores a new session with Version 1. StartedAt and UpdatedAt
// default to now. It fails with ErrExists if the id is taken.
func (s *Store) Create(ctx context.Context, sess *Session) error {
	if sess.ID == "" {
		return errors.New("session: create: empty id")
	}
	now := s.now()
	c := *sess
	c.Version = 1
	c.added = append([]Line(nil), sess.Transcript...)
	if c.StartedAt.IsZero() {
		c.StartedAt = now
	}
	c.UpdatedAt = now
	data, err := codec.Marshal(&c)
	if err != nil {
		return fmt.Errorf("session: create: %w", err)
	}
	ok, err := createScript.Run(ctx, s.rdb, []string{s.key(c.ID)}, data, s.ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("session: create: %w", err)
	}
	if ok == 0 {
		return ErrExists
	}
	if len(c.added) > 0 {
		args, err := encodeLines(c.added)
		if err != nil {
			return fmt.Errorf("session: create: %w", err)
		}
		lk := s.linesKey(c.ID)
		if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.RPush(ctx, lk, args...)
			p.PExpire(ctx, lk, s.ttl)
			return nil
		}); err != nil {
			return fmt.Errorf("session: create: transcript: %w", err)
		}
		c.added = nil
	}
	*sess = c
	idx := s.prefix + KeyIndex
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, idx, redis.Z{Score: float64(c.StartedAt.UnixMilli()), Member: c.ID})
		p.ZRemRangeByRank(ctx, idx, 0, -IndexCap-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("session: create: index: %w", err)
	}
	return nil
}

// LoadFull returns the session with its whole transcript, or ErrNotFound.
func (s *Store) LoadFull(ctx context.Context, id string) (*Session, error) {
	var hm *redis.SliceCmd
	var lr *redis.StringSliceCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		hm = p.HMGet(ctx, s.key(id), "v", "data")
		lr = p.LRange(ctx, s.linesKey(id), 0, -1)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("session: load: %w", err)
	}
	sess, err := decode(id, hm.Val())
	if err != nil {
		return nil, err
	}
	if sess.Transcript, err = decodeLines(lr.Val()); err != nil {
		return nil, fmt.Errorf("session: %s: %w", id, err)
	}
	return sess, nil
}

func encodeLines(ls []Line) ([]any, error) {
	out := make([]any, len(ls))
	for i, l := range ls {
		b, err := codec.Marshal(l)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func decodeLines(raw []string) ([]Line, error) {
	out := make([]Line, len(raw))
	for i, r := range raw {
		if err := codec.UnmarshalFromString(r, &out[i]); err != nil {
			return nil, fmt.Errorf("transcript line %d: %w", i, err)
		}
	}
	return out, nil
}

// Load returns the session without its transcript (see LoadFull), or
// ErrNotFound.
func (s *Store) Load(ctx context.Context, id string) (*Session, error) {
	vals, err := s.rdb.HMGet(ctx, s.key(id), "v", "data").Result()
	if err != nil {
		return nil, fmt.Errorf("session: load: %w", err)
	}
	return decode(id, vals)
}

// decode builds a session from HMGET v data.
func decode(id string, vals []any) (*Session, error) {
	vs, ok1 := vals[0].(string)
	data, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, ErrNotFound
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("session: %s: bad version %q", id, vs)
	}
	sess := new(Session)
	if err := codec.UnmarshalFromString(data, sess); err != nil {
		return nil, fmt.Errorf("session: %s: %w", id, err)
	}
	// The hash field is authoritative: it is what the compare-and-set checks.
	sess.Version = v
	return sess, nil
}

// Save writes sess if the stored version still equals sess.Version, then
// sets sess.Version to the new version and refreshes the TTL. Otherwise
// it returns ErrConflict (someone saved since sess was loaded) or
// ErrNotFound (expired), and sess is unchanged.
func (s *Store) Save(ctx context.Context, sess *Session) error {
	c := *sess
	c.Version = sess.Version + 1
	c.UpdatedAt = s.now()
	data, err := codec.Marshal(&c)
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	args := []any{strconv.FormatInt(sess.Version, 10), data, s.ttl.Milliseconds()}
	lines, err := encodeLines(sess.added)
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	args = append(args, lines...)
	nv, err := saveScript.Run(ctx, s.rdb, []string{s.key(c.ID), s.linesKey(c.ID)}, args...).Int64()
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	switch nv {
	case -1:
		return ErrNotFound
	case -2:
		return ErrConflict
	}
	c.Version = nv
	c.added = nil
	*sess = c
	return nil
}

// maxUpdateTries bounds Update's retries; turns of one call are
// sequential, so more than a couple of conflicts means something is wrong.
const maxUpdateTries = 5

// Update loads the session, applies fn and saves it, retrying from a fresh
// load on ErrConflict. fn may run more than once; it must only change the
// session. An error from fn aborts without saving.
func (s *Store) Update(ctx context.Context, id string, fn func(*Session) error) (*Session, error) {
	for range maxUpdateTries {
		sess, err := s.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(sess); err != nil {
			return nil, err
		}
		switch err := s.Save(ctx, sess); {
		case err == nil:
			return sess, nil
		case !errors.Is(err, ErrConflict):
			return nil, err
		}
	}
	return nil, fmt.Errorf("session: update %s: %d tries: %w", id, maxUpdateTries, ErrConflict)
}

// listPage is how many index entries List fetches per round trip.
const listPage = 100

// List returns up to limit sessions (100 when limit <= 0), newest start
// first. Index entries whose session has expired are removed on the way.
func (s *Store) List(ctx context.Context, limit int) ([]*Session, error) {
	return s.ListWhere(ctx, limit, nil)
}

// ListWhere is List keeping only the sessions for which keep is true (all
// when keep is nil), still newest first, up to limit of them.
func (s *Store) ListWhere(ctx context.Context, limit int, keep func(*Session) bool) ([]*Session, error) {
	if limit <= 0 {
		limit = 100
	}
	idx := s.prefix + KeyIndex
	var out []*Session
	var start int64
	for len(out) < limit {
		ids, err := s.rdb.ZRevRange(ctx, idx, start, start+listPage-1).Result()
		if err != nil {
			return nil, fmt.Errorf("session: list: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		cmds := make([]*redis.SliceCmd, len(ids))
		lines := make([]*redis.StringSliceCmd, len(ids))
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HMGet(ctx, s.key(id), "v", "data")
				lines[i] = p.LRange(ctx, s.linesKey(id), 0, -1)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("session: list: %w", err)
		}
		var gone []any
		for i, cmd := range cmds {
			sess, err := decode(ids[i], cmd.Val())
			if errors.Is(err, ErrNotFound) {
				gone = append(gone, ids[i])
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("session: list: %w", err)
			}
			if sess.Transcript, err = decodeLines(lines[i].Val()); err != nil {
				return nil, fmt.Errorf("session: list: %s: %w", ids[i], err)
			}
			if len(out) < limit && (keep == nil || keep(sess)) {
				out = append(out, sess)
			}
		}
		if len(gone) > 0 {
			if err := s.rdb.ZRem(ctx, idx, gone...).Err(); err != nil {
				return nil, fmt.Errorf("session: list: prune: %w", err)
			}
		}
		// Removed entries shift the ranks after them down.
		start += int64(len(ids) - len(gone))
		if len(ids) < listPage {
			break
		}
	}
	return out, nil
}
