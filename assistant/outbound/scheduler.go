package outbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/callbacks"
)

// Scheduler keys, relative to the prefix.
const (
	keyDue      = "outbound:due"
	keyJob      = "outbound:job:"
	keyInflight = "outbound:inflight"
	keyOwner    = "outbound:owner"
	keyParked   = "outbound:parked:"
)

// Members of the in-flight set name their due set by a prefix.
const (
	memberCallback = "cb:" // callbacks:due (assistant/callbacks)
	memberAttempt  = "at:" // outbound:due
)

// Kind says where a job comes from.
type Kind string

// Kinds of jobs.
const (
	KindCallback Kind = "callback" // a callback booked in a call, the form or the API
	KindAttempt  Kind = "attempt"  // a campaign attempt or a one-off dial (POST /calls/outbound)
)

// Job statuses (callbacks use the same words, see assistant/callbacks).
const (
	StatusScheduled = callbacks.StatusScheduled
	StatusClaimed   = callbacks.StatusClaimed
	StatusDialling  = callbacks.StatusDialling
	StatusRetry     = callbacks.StatusRetry
	StatusDone      = callbacks.StatusDone
	StatusFailed    = callbacks.StatusFailed
	StatusParked    = "parked" // its campaign is paused
)

// ErrLeaseLost: the job is no longer this instance's (its lease expired
// and another instance took it, or it was finished already).
var ErrLeaseLost = errors.New("outbound: lease lost")

// Job is one unit of due work: a callback or an attempt record.
type Job struct {
	ID         string    `json:"id"` // callback id or attempt job id
	Kind       Kind      `json:"kind"`
	CaseNumber string    `json:"case_number,omitempty"`
	Phone      string    `json:"phone,omitempty"`  // E.164; empty: look it up by case number
	Target     string    `json:"target,omitempty"` // explicit SIP URI (one-off dials)
	CampaignID string    `json:"campaign_id,omitempty"`
	Attempts   int       `json:"attempts"` // dial attempts made so far
	Status     string    `json:"status"`
	Outcome    Outcome   `json:"outcome,omitempty"` // of the last attempt
	DueAt      time.Time `json:"due_at"`
	CreatedAt  time.Time `json:"created_at"`
}

func (j Job) member() string {
	if j.Kind == KindCallback {
		return memberCallback + j.ID
	}
	return memberAttempt + j.ID
}

// SchedulerConfig tunes a scheduler. Zero fields take the defaults.
type SchedulerConfig struct {
	Owner     string        // this instance's name (random when empty)
	Lease     time.Duration // a claim lapses this long after its last renewal (2m)
	Retention time.Duration // attempt records are kept this long (90 days)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Scheduler hands out due work with leases: with several instances on one
// Redis each job is claimed by one of them at a time, and a claim whose
// instance died goes back to the due set when its lease expires.
type Scheduler struct {
	rdb    redis.UniversalClient
	prefix string
	cbs    *callbacks.Service // nil: no callbacks to dial
	cfg    SchedulerConfig
}

// NewScheduler returns a scheduler. cbs may be nil.
func NewScheduler(rdb redis.UniversalClient, prefix string, cbs *callbacks.Service, cfg SchedulerConfig) *Scheduler {
	if cfg.Owner == "" {
		cfg.Owner = newID()
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 90 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{rdb: rdb, prefix: prefix, cbs: cbs, cfg: cfg}
}

// Owner is the instance name in this scheduler's claims.
func (s *Scheduler) Owner() string { return s.cfg.Owner }

// Lease is the claim lease.
func (s *Scheduler) Lease() time.Duration { return s.cfg.Lease }

func (s *Scheduler) cbDueKey() string             { return s.prefix + callbacks.KeyDue }
func (s *Scheduler) dueKey() string               { return s.prefix + keyDue }
func (s *Scheduler) jobKey(id string) string      { return s.prefix + keyJob + id }
func (s *Scheduler) parkedKey(camp string) string { return s.prefix + keyParked + camp }
func (s *Scheduler) flightKeys() []string {
	return []string{s.prefix + keyInflight, s.prefix + keyOwner, s.cbDueKey(), s.dueKey()}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Enqueue stores an attempt job due at at (it gets a fresh id) and returns it.
func (s *Scheduler) Enqueue(ctx context.Context, j Job, at time.Time) (Job, error) {
	j.ID, j.Kind, j.Status, j.DueAt = newID(), KindAttempt, StatusScheduled, at
	j.CreatedAt = s.cfg.Now()
	data, err := json.Marshal(j)
	if err != nil {
		return Job{}, fmt.Errorf("outbound: enqueue: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.jobKey(j.ID), data, s.cfg.Retention)
		p.ZAdd(ctx, s.dueKey(), redis.Z{Score: float64(at.Unix()), Member: j.ID})
		return nil
	})
	if err != nil {
		return Job{}, fmt.Errorf("outbound: enqueue: %w", err)
	}
	return j, nil
}

// Get returns an attempt job record.
func (s *Scheduler) Get(ctx context.Context, id string) (Job, error) {
	data, err := s.rdb.Get(ctx, s.jobKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Job{}, fmt.Errorf("outbound: job %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("outbound: job: %w", err)
	}
	var j Job
	if err := json.Unmarshal(data, &j); err != nil {
		return Job{}, fmt.Errorf("outbound: job %s: %w", id, err)
	}
	return j, nil
}

// ErrNotFound: no such job or campaign.
var ErrNotFound = errors.New("outbound: not found")

// claimScript moves up to n due members into the in-flight set, scored by
// their lease expiry, and records the owner. Callbacks go first: a person
// asked for them.
//
// KEYS: 1 in-flight, 2 owner hash, 3 callbacks due, 4 attempts due.
// ARGV: 1 now (unix s), 2 lease expiry (unix ms), 3 owner, 4 n.
var claimScript = redis.NewScript(`
local out, n = {}, tonumber(ARGV[4])
local tags = {'cb:', 'at:'}
for i = 3, 4 do
  if #out >= n then break end
  local ids = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, n - #out)
  for _, id in ipairs(ids) do
    redis.call('ZREM', KEYS[i], id)
    local m = tags[i - 2] .. id
    redis.call('ZADD', KEYS[1], ARGV[2], m)
    redis.call('HSET', KEYS[2], m, ARGV[3] .. '|claimed')
    out[#out + 1] = m
  end
end
return out
`)

// requeueScript returns claims whose lease expired to their due set.
//
// KEYS: as claimScript. ARGV: 1 now (unix ms), 2 due score (unix s), 3 limit.
var requeueScript = redis.NewScript(`
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(ms) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('HDEL', KEYS[2], m)
  local due = KEYS[4]
  if string.sub(m, 1, 3) == 'cb:' then due = KEYS[3] end
  redis.call('ZADD', due, ARGV[2], string.sub(m, 4))
end
return #ms
`)

// moveScript is every transition of a claimed member, guarded by its
// owner so a lapsed instance cannot touch work another one took over.
//
// KEYS: 1 in-flight, 2 owner hash, 3 destination zset (or KEYS[1]).
// ARGV: 1 member, 2 owner, 3 op, 4 now (unix ms), 5 new lease expiry
// (unix ms) or destination score, 6 destination member.
// ops: start (claimed → dialling, lease must not have lapsed), renew,
// finish (leave the in-flight set), move (leave it for KEYS[3]).
// Returns 1 done, 0 not this owner's (or lapsed).
var moveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if not cur then return 0 end
local sep = string.find(cur, '|', 1, true)
if string.sub(cur, 1, sep - 1) ~= ARGV[2] then return 0 end
local state = string.sub(cur, sep + 1)
local op = ARGV[3]
if op == 'start' then
  if state == 'dialling' then return 1 end
  local exp = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
  if exp < tonumber(ARGV[4]) then return 0 end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|dialling')
  redis.call('ZADD', KEYS[1], 'XX', ARGV[5], ARGV[1])
  return 1
elseif op == 'renew' then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[5], ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if op == 'move' then redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6]) end
return 1
`)

// releaseScript hands this owner's claimed (not yet dialling) members
// back to their due sets, due now.
//
// KEYS: as claimScript. ARGV: 1 owner, 2 due score (unix s).
var releaseScript = redis.NewScript(`
local all = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #all, 2 do
  local m, v = all[i], all[i + 1]
  if v == ARGV[1] .. '|claimed' then
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[2], m)
    local due = KEYS[4]
    if string.sub(m, 1, 3) == 'cb:' then due = KEYS[3] end
    redis.call('ZADD', due, ARGV[2], string.sub(m, 4))
    n = n + 1
  end
end
return n
`)

// requeueBatch bounds one RequeueExpired pass.
const requeueBatch = 1000

// RequeueExpired returns claims whose lease lapsed (their instance died
// or stalled) to the due sets, due now. It reports how many.
func (s *Scheduler) RequeueExpired(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	n, err := requeueScript.Run(ctx, s.rdb, s.flightKeys(), now.UnixMilli(), now.Unix(), requeueBatch).Int()
	if err != nil {
		return 0, fmt.Errorf("outbound: requeue: %w", err)
	}
	if n > 0 {
		s.cfg.Logger.Warn("outbound: re-queued jobs whose lease lapsed", "count", n)
	}
	return n, nil
}

// Claim takes up to n due jobs (callbacks first) with a lease. Jobs whose
// record is gone are dropped.
func (s *Scheduler) Claim(ctx context.Context, n int) ([]Job, error) {
	if n <= 0 {
		return nil, nil
	}
	now := s.cfg.Now()
	members, err := claimScript.Run(ctx, s.rdb, s.flightKeys(), now.Unix(),
		now.Add(s.cfg.Lease).UnixMilli(), s.cfg.Owner, n).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("outbound: claim: %w", err)
	}
	jobs := make([]Job, 0, len(members))
	for _, m := range members {
		j, err := s.load(ctx, m)
		if errors.Is(err, ErrNotFound) || errors.Is(err, callbacks.ErrNotFound) {
			s.cfg.Logger.Info("outbound: dropping a due entry without a record", "job", m)
			_ = s.move(ctx, Job{Kind: kindOf(m), ID: m[3:]}, "finish", "", 0, "")
			continue
		}
		if err != nil {
			// Leave the claim to lapse: another pass will retry it.
			return jobs, err
		}
		j.Status = StatusClaimed
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func kindOf(member string) Kind {
	if strings.HasPrefix(member, memberCallback) {
		return KindCallback
	}
	return KindAttempt
}

// load reads the record behind an in-flight member.
func (s *Scheduler) load(ctx context.Context, m string) (Job, error) {
	id := m[3:]
	if kindOf(m) == KindAttempt {
		return s.Get(ctx, id)
	}
	if s.cbs == nil {
		return Job{}, fmt.Errorf("outbound: callback %s without a callback service: %w", id, ErrNotFound)
	}
	cb, err := s.cbs.Get(ctx, id)
	if err != nil {
		return Job{}, err
	}
	return Job{
		ID: cb.ID, Kind: KindCallback, CaseNumber: cb.CaseNumber, Phone: cb.Phone,
		Attempts: cb.Attempts, Status: cb.Status, Outcome: Outcome(cb.Outcome), DueAt: cb.At, CreatedAt: cb.CreatedAt,
	}, nil
}

func (s *Scheduler) move(ctx context.Context, j Job, op, dest string, score int64, destMember string) error {
	keys := append(s.flightKeys()[:2:2], s.prefix+keyInflight)
	if dest != "" {
		keys[2] = dest
	}
	now := s.cfg.Now()
	if op == "start" || op == "renew" {
		score = now.Add(s.cfg.Lease).UnixMilli()
	}
	ok, err := moveScript.Run(ctx, s.rdb, keys, j.member(), s.cfg.Owner, op, now.UnixMilli(), score, destMember).Int()
	if err != nil {
		return fmt.Errorf("outbound: %s: %w", op, err)
	}
	if ok != 1 {
		return ErrLeaseLost
	}
	return nil
}

// save writes the job's status back to its record (callback or attempt).
func (s *Scheduler) save(ctx context.Context, j Job) error {
	if j.Kind == KindCallback {
		if s.cbs == nil {
			return nil
		}
		return s.cbs.Update(ctx, j.ID, func(cb *callbacks.Callback) {
			cb.Status, cb.Attempts, cb.Outcome = j.Status, j.Attempts, string(j.Outcome)
		})
	}
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("outbound: save: %w", err)
	}
	if err := s.rdb.SetArgs(ctx, s.jobKey(j.ID), data, redis.SetArgs{KeepTTL: true}).Err(); err != nil {
		return fmt.Errorf("outbound: save: %w", err)
	}
	return nil
}

// Start moves a claimed job to dialling and renews its lease. It fails
// with ErrLeaseLost when the lease lapsed: the job is someone else's now
// and must not be dialled. Starting twice is harmless.
func (s *Scheduler) Start(ctx context.Context, j *Job) error {
	if err := s.move(ctx, *j, "start", "", 0, ""); err != nil {
		return err
	}
	j.Status = StatusDialling
	return s.save(ctx, *j)
}

// Renew extends the lease of a job this instance holds.
func (s *Scheduler) Renew(ctx context.Context, j Job) error {
	return s.move(ctx, j, "renew", "", 0, "")
}

// Finish ends a job for good with status (StatusDone or StatusFailed).
func (s *Scheduler) Finish(ctx context.Context, j *Job, status string) error {
	if err := s.move(ctx, *j, "finish", "", 0, ""); err != nil {
		return err
	}
	j.Status = status
	return s.save(ctx, *j)
}

// Retry puts the job back in its due set at at.
func (s *Scheduler) Retry(ctx context.Context, j *Job, at time.Time) error {
	dest := s.dueKey()
	if j.Kind == KindCallback {
		dest = s.cbDueKey()
	}
	if err := s.move(ctx, *j, "move", dest, at.Unix(), j.ID); err != nil {
		return err
	}
	j.Status, j.DueAt = StatusRetry, at
	return s.save(ctx, *j)
}

// Defer puts the job back in its due set at at without touching its
// record (a campaign at its concurrency: not an attempt).
func (s *Scheduler) Defer(ctx context.Context, j Job, at time.Time) error {
	dest := s.dueKey()
	if j.Kind == KindCallback {
		dest = s.cbDueKey()
	}
	return s.move(ctx, j, "move", dest, at.Unix(), j.ID)
}

// Park moves a claimed attempt of a paused campaign aside until Unpark.
func (s *Scheduler) Park(ctx context.Context, j *Job) error {
	if j.CampaignID == "" || j.Kind != KindAttempt {
		return fmt.Errorf("%w: only campaign attempts can be parked", ErrInvalid)
	}
	if err := s.move(ctx, *j, "move", s.parkedKey(j.CampaignID), j.DueAt.Unix(), j.ID); err != nil {
		return err
	}
	j.Status = StatusParked
	return s.save(ctx, *j)
}

// unparkScript moves a campaign's parked jobs back to the due set.
// KEYS: 1 parked, 2 due.
var unparkScript = redis.NewScript(`
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do redis.call('ZADD', KEYS[2], all[i + 1], all[i]) end
redis.call('DEL', KEYS[1])
return #all / 2
`)

// Unpark returns a campaign's parked jobs to the due set.
func (s *Scheduler) Unpark(ctx context.Context, campaignID string) (int, error) {
	n, err := unparkScript.Run(ctx, s.rdb, []string{s.parkedKey(campaignID), s.dueKey()}).Int()
	if err != nil {
		return 0, fmt.Errorf("outbound: unpark: %w", err)
	}
	return n, nil
}

// Release hands every job this instance claimed but has not started back
// to the due sets (due now), for another instance to take. Call it on
// drain; jobs already dialling stay with their calls.
func (s *Scheduler) Release(ctx context.Context) (int, error) {
	n, err := releaseScript.Run(ctx, s.rdb, s.flightKeys(), s.cfg.Owner, s.cfg.Now().Unix()).Int()
	if err != nil {
		return 0, fmt.Errorf("outbound: release: %w", err)
	}
	return n, nil
}

// Pending counts the due (not yet claimed) callbacks and attempts.
func (s *Scheduler) Pending(ctx context.Context) (int64, error) {
	var a, b *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		a = p.ZCard(ctx, s.cbDueKey())
		b = p.ZCard(ctx, s.dueKey())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbound: pending: %w", err)
	}
	return a.Val() + b.Val(), nil
}

// Due counts the callbacks and attempts due now (their time has come)
// that no instance has claimed yet: the backlog the dialers have to
// work through.
func (s *Scheduler) Due(ctx context.Context) (callbacks, attempts int64, err error) {
	now := strconv.FormatInt(s.cfg.Now().Unix(), 10)
	var a, b *redis.IntCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		a = p.ZCount(ctx, s.cbDueKey(), "-inf", now)
		b = p.ZCount(ctx, s.dueKey(), "-inf", now)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("outbound: due: %w", err)
	}
	return a.Val(), b.Val(), nil
}

// InFlight counts claimed and dialling jobs across all instances.
func (s *Scheduler) InFlight(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.prefix+keyInflight).Result()
	if err != nil {
		return 0, fmt.Errorf("outbound: in flight: %w", err)
	}
	return n, nil
}
